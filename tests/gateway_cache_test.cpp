// The response cache: which requests are cacheable, the normalized key, the
// TTL and the LRU size bound.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "gateway/response_cache.h"

namespace gs::gateway {
namespace {
namespace json = boost::json;

json::object parse(const char* text) { return json::parse(text).as_object(); }

CachedAnswer answer(size_t size) {
  return CachedAnswer{"application/json", false, {std::string(size, 'x')}, {}};
}

TEST(GatewayCache, CanonicalJsonSortsKeysAndNormalizesNumbers) {
  EXPECT_EQ(canonical_json(json::parse(R"({"b":[{"y":1,"x":2.0}],"a":0.5,"c":null})")),
            R"({"a":)" + json::serialize(json::value(0.5)) + R"(,"b":[{"x":2,"y":1}],"c":null})");
}

TEST(GatewayCache, OnlyDeterministicRequestsAreCacheable) {
  EXPECT_TRUE(is_deterministic(parse(R"({"temperature":0})")));
  EXPECT_TRUE(is_deterministic(parse(R"({"temperature":0.0})")));
  EXPECT_TRUE(is_deterministic(parse(R"({"temperature":0.8,"seed":42})")));
  EXPECT_TRUE(is_deterministic(parse(R"({"options":{"temperature":0}})")));
  EXPECT_FALSE(is_deterministic(parse(R"({})")));
  EXPECT_FALSE(is_deterministic(parse(R"({"temperature":0.2})")));
  EXPECT_FALSE(is_deterministic(parse(R"({"seed":"x"})")));
}

TEST(GatewayCache, KeyIgnoresFieldOrderPriorityAndUserButNotSampling) {
  const auto a = parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0})");
  const auto b = parse(
      R"({"temperature":0.0,"user":"u","priority":3,"messages":[{"content":"hi","role":"user"}],"model":"m"})");
  EXPECT_EQ(cache_key("/v1/chat/completions", a), cache_key("/v1/chat/completions", b));
  EXPECT_NE(cache_key("/v1/completions", a), cache_key("/v1/chat/completions", a));
  auto c = a;
  c["max_tokens"] = 5;
  EXPECT_NE(cache_key("/v1/chat/completions", a), cache_key("/v1/chat/completions", c));
  auto d = a;
  d["stream"] = true;
  EXPECT_NE(cache_key("/v1/chat/completions", a), cache_key("/v1/chat/completions", d));
}

TEST(GatewayCache, EntriesExpireAfterTheTtl) {
  MemoryResponseCache cache(10, 1 << 20);
  cache.put("k", answer(5), 100);
  ASSERT_NE(cache.get("k", 109), nullptr);
  EXPECT_EQ(cache.get("k", 109)->pieces.front(), "xxxxx");
  EXPECT_EQ(cache.get("k", 110), nullptr);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(GatewayCache, DropsTheLeastRecentlyUsedPastMaxBytes) {
  const size_t one = answer(1000).bytes() + 1;
  MemoryResponseCache cache(100, 3 * one);
  cache.put("a", answer(1000), 0);
  cache.put("b", answer(1000), 0);
  cache.put("c", answer(1000), 0);
  ASSERT_NE(cache.get("a", 1), nullptr);  // a is now the most recent; b the least
  cache.put("d", answer(1000), 1);
  EXPECT_EQ(cache.get("b", 1), nullptr);
  EXPECT_NE(cache.get("a", 1), nullptr);
  EXPECT_NE(cache.get("c", 1), nullptr);
  EXPECT_NE(cache.get("d", 1), nullptr);
  EXPECT_LE(cache.bytes(), cache.max_bytes());
  cache.put("huge", answer(10 * 1000), 1);  // larger than the whole cache: not stored, nothing dropped
  EXPECT_EQ(cache.get("huge", 1), nullptr);
  EXPECT_EQ(cache.entries(), 3u);
  cache.put("a", answer(10), 2);  // replacing keeps the count right
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_EQ(cache.get("a", 2)->pieces.front().size(), 10u);
}

TEST(GatewayCache, AnswersSurviveSerializationByteForByte) {
  CachedAnswer streamed{"text/event-stream", true, {"data: {\"a\":1}\n\n", "", std::string("\0,:9\xff", 5)},
                        {}};
  streamed.usage = Usage{7, 11, true};
  auto back = parse_answer(serialize_answer(streamed));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->content_type, "text/event-stream");
  EXPECT_TRUE(back->streamed);
  EXPECT_EQ(back->pieces, streamed.pieces);
  EXPECT_TRUE(back->usage.seen);
  EXPECT_EQ(back->usage.prompt_tokens, 7);
  EXPECT_EQ(back->usage.completion_tokens, 11);

  auto plain = parse_answer(serialize_answer(answer(3)));
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_FALSE(plain->streamed);
  EXPECT_FALSE(plain->usage.seen);
  EXPECT_EQ(plain->pieces, std::vector<std::string>{"xxx"});
}

TEST(GatewayCache, RejectsBytesItDidNotWrite) {
  const std::string good = serialize_answer(answer(3));
  EXPECT_FALSE(parse_answer("").ok());
  EXPECT_FALSE(parse_answer("hello").ok());
  EXPECT_FALSE(parse_answer(good.substr(0, good.size() - 1)).ok());
  EXPECT_FALSE(parse_answer(good + "x").ok());
  EXPECT_FALSE(parse_answer("24:genstack-cached-answer-9,").ok());
  std::string lying = good;
  lying.replace(lying.find("1:1,3:xxx"), 3, "1:9");  // claims 9 pieces
  EXPECT_FALSE(parse_answer(lying).ok());
  EXPECT_FALSE(parse_answer("99999999999999999999999:x,").ok());
}

TEST(GatewayCache, MemoryCacheReportsWhatItHolds) {
  MemoryResponseCache cache(10, 1 << 20);
  cache.put("k", answer(5), 0);
  const auto contents = cache.contents();
  ASSERT_TRUE(contents.has_value());
  EXPECT_EQ(contents->entries, 1u);
  EXPECT_EQ(contents->bytes, cache.bytes());
}

}  // namespace
}  // namespace gs::gateway
