// Tool-call parsing: each format, whole and streamed in chunks of every size.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "template/tool_calls.h"

namespace gs {
namespace {

using tmpl::ParsedReply;
using tmpl::ToolCall;
using tmpl::ToolCallFormat;
using tmpl::ToolCallStream;

// Feeds `text` in chunks of `chunk` bytes and joins the deltas.
ParsedReply streamed(std::string_view text, ToolCallFormat format, size_t chunk) {
  ToolCallStream stream(format);
  ParsedReply out;
  const auto take = [&](ToolCallStream::Delta d) {
    out.content += d.content;
    for (ToolCall& c : d.tool_calls) out.tool_calls.push_back(std::move(c));
  };
  for (size_t i = 0; i < text.size(); i += chunk) take(stream.feed(text.substr(i, chunk)));
  take(stream.finish());
  return out;
}

// The whole reply and every chunking of it must agree.
ParsedReply parse_everyway(std::string_view text, ToolCallFormat format) {
  ParsedReply whole = tmpl::parse_tool_calls(text, format);
  for (size_t chunk = 1; chunk <= text.size() + 1; ++chunk) {
    ParsedReply s = streamed(text, format, chunk);
    EXPECT_EQ(whole.content, s.content) << "chunk size " << chunk << " of: " << text;
    EXPECT_EQ(whole.tool_calls, s.tool_calls) << "chunk size " << chunk << " of: " << text;
  }
  return whole;
}

ToolCall call(std::string name, std::string arguments, std::string id = "") {
  return {std::move(id), std::move(name), std::move(arguments)};
}

// Generated ids are 9 letters and digits (what Mistral's templates demand).
void expect_calls(const ParsedReply& r, const std::vector<ToolCall>& want) {
  ASSERT_EQ(r.tool_calls.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.tool_calls[i].name, want[i].name);
    EXPECT_EQ(r.tool_calls[i].arguments, want[i].arguments);
    if (!want[i].id.empty()) {
      EXPECT_EQ(r.tool_calls[i].id, want[i].id);
    } else {
      EXPECT_EQ(r.tool_calls[i].id.size(), 9u);
      for (char c : r.tool_calls[i].id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
    }
  }
}

TEST(ToolCalls, HermesSingleCall) {
  auto r = parse_everyway(
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
      ToolCallFormat::kHermes);
  EXPECT_EQ(r.content, "");
  expect_calls(r, {call("get_weather", R"({"city":"Paris"})")});
}

TEST(ToolCalls, HermesContentAndParallelCalls) {
  auto r = parse_everyway(
      "Let me check both.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n"
      "</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\", \"unit\": "
      "\"celsius\"}}\n</tool_call>",
      ToolCallFormat::kHermes);
  EXPECT_EQ(r.content, "Let me check both.\n\n");
  expect_calls(r, {call("get_weather", R"({"city":"Oslo"})"),
                   call("get_weather", R"({"city":"Rome","unit":"celsius"})")});
  EXPECT_NE(r.tool_calls[0].id, r.tool_calls[1].id);
}

TEST(ToolCalls, HermesUnclosedCallAtEndStillParses) {
  auto r = parse_everyway("<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n", ToolCallFormat::kHermes);
  expect_calls(r, {call("f", "{}")});
}

TEST(ToolCalls, HermesMalformedJsonIsContent) {
  const std::string text = "Before <tool_call>{\"name\": oops}</tool_call> after";
  auto r = parse_everyway(text, ToolCallFormat::kHermes);
  EXPECT_EQ(r.content, text);
  EXPECT_TRUE(r.tool_calls.empty());
  auto missing_name = parse_everyway("<tool_call>{\"arguments\": {}}</tool_call>", ToolCallFormat::kHermes);
  EXPECT_EQ(missing_name.content, "<tool_call>{\"arguments\": {}}</tool_call>");
}

TEST(ToolCalls, PlainTextStaysContent) {
  const std::string text = "a < b, <tool is not a tag, [TOOL and <|python are plain text {not json";
  for (auto f :
       {ToolCallFormat::kHermes, ToolCallFormat::kMistral, ToolCallFormat::kLlama3, ToolCallFormat::kNone}) {
    auto r = parse_everyway(text, f);
    EXPECT_EQ(r.content, text) << tmpl::tool_call_format_name(f);
    EXPECT_TRUE(r.tool_calls.empty());
  }
  // A marker cut off at the very end is content too.
  auto r = parse_everyway("Thinking... <tool_ca", ToolCallFormat::kHermes);
  EXPECT_EQ(r.content, "Thinking... <tool_ca");
}

TEST(ToolCalls, Llama3BareJson) {
  auto r = parse_everyway("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
                          ToolCallFormat::kLlama3);
  EXPECT_EQ(r.content, "");
  expect_calls(r, {call("get_weather", R"({"city":"Paris"})")});
  auto spaced = parse_everyway(
      "\n  {\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"arguments\": {\"x\": 1}}",
      ToolCallFormat::kLlama3);
  expect_calls(spaced, {call("a", "{}"), call("b", R"({"x":1})")});
}

TEST(ToolCalls, Llama3PythonTag) {
  auto r = parse_everyway("<|python_tag|>{\"name\": \"search\", \"parameters\": {\"q\": \"genstack\"}}",
                          ToolCallFormat::kLlama3);
  expect_calls(r, {call("search", R"({"q":"genstack"})")});
  // Built-in tools' call syntax is not JSON: it stays content, tag included.
  auto builtin = parse_everyway("<|python_tag|>brave_search.call(query=\"x\")", ToolCallFormat::kLlama3);
  EXPECT_EQ(builtin.content, "<|python_tag|>brave_search.call(query=\"x\")");
  EXPECT_TRUE(builtin.tool_calls.empty());
}

TEST(ToolCalls, Llama3JsonThatIsNotACallIsContent) {
  for (std::string text : {"{\"answer\": 42}", "{\"name\": \"f\", \"parameters\": {", "{\"name\": 5}",
                           "{\"name\": \"f\", \"parameters\": {}} trailing words"}) {
    auto r = parse_everyway(text, ToolCallFormat::kLlama3);
    if (text.find("trailing") != std::string::npos) {
      expect_calls(r, {call("f", "{}")});
      EXPECT_EQ(r.content, " trailing words");
    } else {
      EXPECT_EQ(r.content, text);
      EXPECT_TRUE(r.tool_calls.empty());
    }
  }
}

TEST(ToolCalls, MistralArray) {
  auto r = parse_everyway(
      "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": "
      "\"abcDEF123\"}, "
      "{\"name\": \"search_docs\", \"arguments\": {\"query\": \"x\"}}]",
      ToolCallFormat::kMistral);
  EXPECT_EQ(r.content, "");
  expect_calls(
      r, {call("get_weather", R"({"city":"Paris"})", "abcDEF123"), call("search_docs", R"({"query":"x"})")});
}

TEST(ToolCalls, MistralContentBeforeAndNewSyntax) {
  auto r = parse_everyway("Sure.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Lima\"}", ToolCallFormat::kMistral);
  EXPECT_EQ(r.content, "Sure.");
  expect_calls(r, {call("get_weather", R"({"city":"Lima"})")});
  auto with_id = parse_everyway("[TOOL_CALLS]f[CALL_ID]a1b2c3d4e[ARGS]{}", ToolCallFormat::kMistral);
  expect_calls(with_id, {call("f", "{}", "a1b2c3d4e")});
}

TEST(ToolCalls, MistralMalformedIsContent) {
  for (std::string text : {"[TOOL_CALLS] [{\"name\": \"f\", \"arguments\": ]", "[TOOL_CALLS] [{\"nope\": 1}]",
                           "[TOOL_CALLS] [{\"name\": \"f\"", "[TOOL_CALLS]f[ARGS]not json"}) {
    auto r = parse_everyway(text, ToolCallFormat::kMistral);
    EXPECT_EQ(r.content, text);
    EXPECT_TRUE(r.tool_calls.empty());
  }
}

TEST(ToolCalls, ArbitraryBytesNeverCrash) {
  std::string junk;
  for (int i = 0; i < 600; ++i) junk.push_back(static_cast<char>((i * 7919) % 256));
  for (auto f : {ToolCallFormat::kHermes, ToolCallFormat::kMistral, ToolCallFormat::kLlama3}) {
    for (std::string prefix : {"", "<tool_call>", "[TOOL_CALLS]", "<|python_tag|>", "{"}) {
      auto r = tmpl::parse_tool_calls(prefix + junk, f);
      EXPECT_TRUE(r.tool_calls.empty());
      EXPECT_EQ(streamed(prefix + junk, f, 3).content, r.content);
    }
  }
}

std::string read_template(const std::string& name) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "data" / "templates" / (name + ".jinja"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ToolCalls, DetectsTheFormatFromRealTemplates) {
  EXPECT_EQ(tmpl::detect_tool_call_format(read_template("qwen2_5")), ToolCallFormat::kHermes);
  EXPECT_EQ(tmpl::detect_tool_call_format(read_template("qwen3")), ToolCallFormat::kHermes);
  EXPECT_EQ(tmpl::detect_tool_call_format(read_template("mistral_nemo")), ToolCallFormat::kMistral);
  EXPECT_EQ(tmpl::detect_tool_call_format(read_template("mistral_v0_3")), ToolCallFormat::kMistral);
  EXPECT_EQ(tmpl::detect_tool_call_format(read_template("llama3_2")), ToolCallFormat::kLlama3);
  EXPECT_EQ(tmpl::detect_tool_call_format(read_template("smollm2")), ToolCallFormat::kNone);
  EXPECT_EQ(tmpl::detect_tool_call_format(read_template("gemma3")), ToolCallFormat::kNone);
}

}  // namespace
}  // namespace gs
