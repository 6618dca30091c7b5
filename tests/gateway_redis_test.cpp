// RESP, the Redis protocol the gateway's shared rate limits and cache
// speak, and the response cache in a real redis-server (skipped when it is
// not installed).
#include <gtest/gtest.h>

#include "gateway/redis_cache.h"
#include "gateway/redis_client.h"
#include "gateway_daemons.h"

#include <thread>

namespace gs::gateway {
namespace {

TEST(GatewayResp, EncodesCommandsAsArraysOfBulkStrings) {
  EXPECT_EQ(encode_command({"EVAL", "return 1", "0"}), "*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n");
  EXPECT_EQ(encode_command({""}), "*1\r\n$0\r\n\r\n");
}

TEST(GatewayResp, ParsesEveryReplyType) {
  size_t consumed = 0;
  auto array = parse_reply("*4\r\n:1\r\n$3\r\n0.5\r\n$-1\r\n+OK\r\n:9", consumed);
  ASSERT_TRUE(array.ok()) << array.error();
  ASSERT_TRUE(array->has_value());
  EXPECT_EQ(consumed, 27u);  // the trailing ":9" is the next reply
  const RespValue& v = **array;
  ASSERT_EQ(v.type, RespValue::Type::kArray);
  ASSERT_EQ(v.elements.size(), 4u);
  EXPECT_EQ(v.elements[0].integer, 1);
  EXPECT_EQ(v.elements[1].text, "0.5");
  EXPECT_EQ(v.elements[2].type, RespValue::Type::kNull);
  EXPECT_EQ(v.elements[3].text, "OK");
  auto error = parse_reply("-ERR bad\r\n", consumed);
  ASSERT_TRUE(error.ok() && error->has_value());
  EXPECT_EQ((*error)->type, RespValue::Type::kError);
  EXPECT_EQ((*error)->text, "ERR bad");
}

TEST(GatewayResp, WaitsForIncompleteRepliesAndRejectsGarbage) {
  size_t consumed = 0;
  for (const char* partial : {"", "*2\r\n:1\r\n", "$5\r\nab", ":12", "*1\r\n$3\r\nabc"}) {
    auto r = parse_reply(partial, consumed);
    ASSERT_TRUE(r.ok()) << partial;
    EXPECT_FALSE(r->has_value()) << partial;
  }
  EXPECT_FALSE(parse_reply("HTTP/1.1 200 OK\r\n", consumed).ok());
  EXPECT_FALSE(parse_reply(":12x\r\n", consumed).ok());
}

RedisConfig redis_at(uint16_t port) {
  return RedisConfig{"redis://127.0.0.1:" + std::to_string(port), "127.0.0.1", std::to_string(port)};
}

CachedAnswer streamed_answer() {
  return CachedAnswer{"text/event-stream", true, {"data: {\"x\":1}\n\n", "data: [DONE]\n\n"}, {3, 4, true}};
}

TEST(GatewayRedisCache, TwoGatewaysShareAnswersUnderOneNameWithTheTtl) {
  test::RedisServer redis;
  if (const std::string why = redis.start(); !why.empty()) GTEST_SKIP() << why;
  RedisResponseCache a(redis_at(redis.port()), 60, 1 << 20), b(redis_at(redis.port()), 60, 1 << 20);
  EXPECT_FALSE(a.contents().has_value());  // nothing held in this process
  EXPECT_EQ(a.get("k1", 0), nullptr);
  a.put("k1", streamed_answer(), 0);
  const auto hit = b.get("k1", 0);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->content_type, "text/event-stream");
  EXPECT_TRUE(hit->streamed);
  EXPECT_EQ(hit->pieces, streamed_answer().pieces);
  EXPECT_EQ(hit->usage.prompt_tokens + hit->usage.completion_tokens, 7);

  RedisClient client("127.0.0.1", std::to_string(redis.port()), std::chrono::milliseconds(1000));
  auto ttl = client.command({"PTTL", "genstack:gateway:cache:k1"});
  ASSERT_TRUE(ttl.ok()) << ttl.error();
  EXPECT_GT(ttl->integer, 50'000);
  EXPECT_LE(ttl->integer, 60'000);

  // Something else under the name is a miss, not a crash.
  ASSERT_TRUE(client.command({"SET", "genstack:gateway:cache:k2", "not an answer"}).ok());
  EXPECT_EQ(b.get("k2", 0), nullptr);
}

TEST(GatewayRedisCache, EntriesLargerThanMaxBytesAreNotStoredAndEntriesExpire) {
  test::RedisServer redis;
  if (const std::string why = redis.start(); !why.empty()) GTEST_SKIP() << why;
  RedisResponseCache small(redis_at(redis.port()), 0.2, 100);
  small.put("big", CachedAnswer{"application/json", false, {std::string(200, 'x')}, {}}, 0);
  EXPECT_EQ(small.get("big", 0), nullptr);
  small.put("short", CachedAnswer{"application/json", false, {"{}"}, {}}, 0);
  ASSERT_NE(small.get("short", 0), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(small.get("short", 0), nullptr);  // Redis dropped it after the TTL
}

TEST(GatewayRedisCache, ARedisThatIsDownOrUnreachableIsAMiss) {
  test::RedisServer redis;
  if (const std::string why = redis.start(); !why.empty()) GTEST_SKIP() << why;
  RedisResponseCache cache(redis_at(redis.port()), 60, 1 << 20);
  cache.put("k", streamed_answer(), 0);
  ASSERT_NE(cache.get("k", 0), nullptr);
  redis.stop();
  EXPECT_EQ(cache.get("k", 0), nullptr);
  cache.put("k", streamed_answer(), 0);  // dropped, no error

  RedisResponseCache unreachable(redis_at(test::free_port()), 60, 1 << 20);
  EXPECT_EQ(unreachable.get("k", 0), nullptr);
}

}  // namespace
}  // namespace gs::gateway
