// RESP, the Redis protocol the gateway's shared rate limits speak.
#include <gtest/gtest.h>

#include "gateway/redis_client.h"

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

}  // namespace
}  // namespace gs::gateway
