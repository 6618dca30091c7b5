// Request decoding of the API server: typed fields, defaults, errors naming
// the field; UTF-8 sanitizing of token text; keep-alive durations.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/utf8.h"
#include "server/generation_params.h"
#include "server/response_json.h"

namespace gs::server {
namespace {

boost::json::object parse(const char* text) { return boost::json::parse(text).as_object(); }

TEST(ServerParams, OpenAiDefaultsAndFields) {
  OpenAiParams p;
  ASSERT_FALSE(parse_openai_params(parse(R"({"model":"m"})"), true, p));
  EXPECT_EQ(p.request.sampling.temperature, 1.0f);
  EXPECT_EQ(p.request.max_tokens, -1);
  EXPECT_EQ(p.n, 1);
  EXPECT_EQ(p.request.logprobs, -1);
  OpenAiParams q;
  ASSERT_FALSE(parse_openai_params(
      parse(
          R"({"temperature":0,"max_tokens":7,"stop":["a","b"],"n":3,"seed":5,"logprobs":true,"top_logprobs":2,
                "stream":true,"stream_options":{"include_usage":true},"priority":-3,"ignore_eos":true})"),
      true, q));
  EXPECT_EQ(q.request.sampling.temperature, 0.0f);
  EXPECT_EQ(q.request.max_tokens, 7);
  EXPECT_EQ(q.request.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q.n, 3);
  EXPECT_EQ(q.request.sampling.seed, 5u);
  EXPECT_EQ(q.request.logprobs, 2);
  EXPECT_TRUE(q.stream && q.include_usage && q.request.ignore_eos);
  EXPECT_EQ(q.request.priority, -3);
  OpenAiParams c;
  ASSERT_FALSE(parse_openai_params(parse(R"({"logprobs":3,"max_completion_tokens":4})"), false, c));
  EXPECT_EQ(c.request.logprobs, 3);
  EXPECT_EQ(c.request.max_tokens, 4);
}

TEST(ServerParams, OpenAiErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"temperature":"hot"})", "temperature"},
      {R"({"max_tokens":-5})", "max_tokens"},
      {R"({"max_tokens":2.5})", "max_tokens"},
      {R"({"n":0})", "n"},
      {R"({"top_p":1.5})", "top_p"},
      {R"({"stop":3})", "stop"},
      {R"({"stream":"yes"})", "stream"},
      {R"({"response_format":{"type":"xml"}})", "response_format"},
      {R"({"stream_options":{"include_usage":1}})", "stream_options.include_usage"},
  };
  for (const auto& [body, field] : cases) {
    OpenAiParams p;
    auto error = parse_openai_params(parse(body), true, p);
    ASSERT_TRUE(error) << body;
    EXPECT_EQ(error->status, 400) << body;
    EXPECT_EQ(error->param, field) << body;
    EXPECT_NE(error->message.find(field), std::string::npos) << error->message;
  }
}

TEST(ServerParams, OllamaOptions) {
  OllamaParams p;
  ASSERT_FALSE(parse_ollama_params(
      parse(
          R"({"stream":false,"keep_alive":"10m","options":{"num_predict":3,"temperature":0,"seed":9,"stop":["x"]}})"),
      p));
  EXPECT_FALSE(p.stream);
  EXPECT_EQ(p.keep_alive, std::chrono::milliseconds(600000));
  EXPECT_EQ(p.request.max_tokens, 3);
  EXPECT_EQ(p.request.sampling.seed, 9u);
  OllamaParams bad;
  auto error = parse_ollama_params(parse(R"({"options":{"top_k":"many"}})"), bad);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->param, "options.top_k");
}

TEST(ServerParams, KeepAlive) {
  EXPECT_EQ(parse_keep_alive(boost::json::value("30s")), std::chrono::milliseconds(30000));
  EXPECT_EQ(parse_keep_alive(boost::json::value("1h")), std::chrono::milliseconds(3600000));
  EXPECT_EQ(parse_keep_alive(boost::json::value(-1)), std::chrono::milliseconds(-1000));
  EXPECT_EQ(parse_keep_alive(boost::json::value("0")), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_keep_alive(boost::json::value("soon")));
  EXPECT_FALSE(parse_keep_alive(boost::json::value("5 parsecs")));
}

TEST(ServerJson, SanitizeUtf8) {
  EXPECT_EQ(sanitize_utf8("ok é ✓ 😀"), "ok é ✓ 😀");
  EXPECT_EQ(sanitize_utf8("a\xE2\x82"), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace gs::server
