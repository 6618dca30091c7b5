// validate_json (JSON Schema's meaning for the supported subset) and the
// pattern compiler behind `pattern` and `format`.
#include <gtest/gtest.h>

#include <string>

#include <boost/json.hpp>

#include "grammar/regex.h"
#include "grammar/validate.h"

namespace gs {
namespace {

namespace json = boost::json;

Status check(std::string_view doc, std::string_view schema) {
  return validate_json(json::parse(doc), json::parse(schema));
}

TEST(ValidateJson, Types) {
  EXPECT_TRUE(check("1", R"({"type": "integer"})").ok());
  EXPECT_TRUE(check("1.0", R"({"type": "integer"})").ok());  // no fraction: an integer
  EXPECT_FALSE(check("1.5", R"({"type": "integer"})").ok());
  EXPECT_TRUE(check("1.5", R"({"type": "number"})").ok());
  EXPECT_TRUE(check("null", R"({"type": ["string", "null"]})").ok());
  EXPECT_EQ(check("true", R"({"type": ["string", "null"]})").message(),
            "document root: expected null or string");
  EXPECT_TRUE(check("true", "true").ok());
  EXPECT_FALSE(check("true", "false").ok());
  EXPECT_TRUE(check("[1, {}]", "{}").ok());
}

TEST(ValidateJson, Objects) {
  const std::string schema =
      R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
                                  "required": ["a"]})";
  EXPECT_TRUE(check(R"({"b": "x", "a": 1})", schema).ok());    // any order
  EXPECT_TRUE(check(R"({"a": 1, "zzz": [1]})", schema).ok());  // additional properties by default
  EXPECT_EQ(check(R"({"b": "x"})", schema).message(), "document root: missing required property 'a'");
  EXPECT_EQ(check(R"({"a": "1"})", schema).message(), "value at '/a': expected integer");
  const std::string closed = R"({"type": "object", "properties": {"a": {}}, "additionalProperties": false})";
  EXPECT_EQ(check(R"({"a": 1, "c": 2})", closed).message(), "document root: property 'c' is not allowed");
  EXPECT_FALSE(check(R"({"x": "1"})", R"({"additionalProperties": {"type": "integer"}})").ok());
}

TEST(ValidateJson, Arrays) {
  EXPECT_TRUE(check("[1, 2]", R"({"items": {"type": "integer"}, "minItems": 2, "maxItems": 2})").ok());
  EXPECT_FALSE(check("[1]", R"({"minItems": 2})").ok());
  EXPECT_FALSE(check("[1, 2, 3]", R"({"maxItems": 2})").ok());
  EXPECT_EQ(check("[1, \"a\"]", R"({"items": {"type": "integer"}})").message(),
            "value at '/1': expected integer");
  EXPECT_TRUE(
      check(R"(["a", 1, 2])", R"({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}})").ok());
  EXPECT_FALSE(check(R"(["a", 1])", R"({"prefixItems": [{"type": "string"}], "items": false})").ok());
  EXPECT_TRUE(check(R"([true])", R"({"items": [{"type": "boolean"}], "additionalItems": false})").ok());
  EXPECT_FALSE(check(R"([true, 1])", R"({"items": [{"type": "boolean"}], "additionalItems": false})").ok());
}

TEST(ValidateJson, StringsAndNumbers) {
  EXPECT_TRUE(
      check("\"\xc3\xa9\xc3\xa9\"", R"({"minLength": 2, "maxLength": 2})").ok());  // code points, not bytes
  EXPECT_FALSE(check(R"("abc")", R"({"maxLength": 2})").ok());
  EXPECT_TRUE(check(R"("xx-12")", R"({"pattern": "\\d+$"})").ok());
  EXPECT_FALSE(check(R"("12-xx")", R"({"pattern": "\\d+$"})").ok());
  EXPECT_TRUE(check(R"("2024-02-29")", R"({"format": "date"})").ok());
  EXPECT_EQ(check(R"("2024-2-29")", R"({"format": "date"})").message(), "document root: not a valid 'date'");
  EXPECT_TRUE(check(R"("whatever")", R"({"format": "hostname"})").ok());  // not enforced
  EXPECT_TRUE(check("5", R"({"minimum": 5, "maximum": 5})").ok());
  EXPECT_FALSE(check("5", R"({"exclusiveMinimum": 5})").ok());
  EXPECT_FALSE(check("5", R"({"maximum": 5, "exclusiveMaximum": true})").ok());
  EXPECT_TRUE(check("4.5", R"({"maximum": 5, "exclusiveMaximum": true})").ok());
}

TEST(ValidateJson, EnumConstAndCombinators) {
  EXPECT_TRUE(check("2.0", R"({"enum": [1, 2]})").ok());  // numbers compare by value
  EXPECT_TRUE(check(R"({"b": 2, "a": 1})", R"({"const": {"a": 1, "b": 2}})").ok());
  EXPECT_FALSE(check("3", R"({"enum": [1, 2]})").ok());
  EXPECT_TRUE(check("\"x\"", R"({"anyOf": [{"type": "integer"}, {"type": "string"}]})").ok());
  EXPECT_TRUE(check("1", R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})").ok());  // oneOf as anyOf
  EXPECT_FALSE(check("null", R"({"anyOf": [{"type": "integer"}, {"type": "string"}]})").ok());
  EXPECT_FALSE(check("1", R"({"allOf": [{"type": "integer"}, {"minimum": 2}]})").ok());
  EXPECT_TRUE(
      check("[[1]]", R"({"$defs": {"l": {"type": ["array", "integer"], "items": {"$ref": "#/$defs/l"}}},
                                  "$ref": "#/$defs/l"})")
          .ok());
}

TEST(ValidateJson, SchemaErrors) {
  EXPECT_EQ(check("1", R"({"not": {}})").message(), "#: schema keyword 'not' is not supported");
  EXPECT_NE(check("1", R"({"$ref": "#/nowhere"})").message().find("does not point"), std::string::npos);
  EXPECT_NE(check("\"a\"", R"({"pattern": "(?<=a)b"})").message().find("lookaround"), std::string::npos);
  EXPECT_NE(check("1", R"({"$ref": "#"})").message().find("too deeply"), std::string::npos);
}

bool matches(std::string_view pattern, std::string_view text) {
  auto dfa = grammar::compile_regex(pattern);
  EXPECT_TRUE(dfa.ok()) << pattern << ": " << dfa.error();
  return dfa.ok() && dfa->matches(text);
}

TEST(Regex, Syntax) {
  EXPECT_TRUE(matches("^abc$", "abc"));
  EXPECT_FALSE(matches("^abc$", "abcd"));
  EXPECT_TRUE(matches("b", "abc"));  // unanchored: search
  EXPECT_TRUE(matches("^a|c$", "axc"));
  EXPECT_FALSE(matches("^(a|c)$", "axc"));
  EXPECT_TRUE(matches("^a{2,3}$", "aaa"));
  EXPECT_FALSE(matches("^a{2,3}$", "aaaa"));
  EXPECT_TRUE(matches("^a{2,}$", "aaaaa"));
  EXPECT_TRUE(matches("^x{2}?y*?z+?$", "xxz"));  // lazy forms
  EXPECT_TRUE(matches("^[\\w.-]+$", "a_b.c-d"));
  EXPECT_FALSE(matches("^\\d+$", "12a"));
  EXPECT_TRUE(matches("^\\D\\S\\W$", "a-!"));
  EXPECT_TRUE(matches("^[^\\d\\s]$", "x"));
  EXPECT_TRUE(matches("^.$", "\xf0\x9f\x98\x80"));  // one character, four bytes
  EXPECT_FALSE(matches("^.$", "\n"));
  EXPECT_TRUE(matches("^[\\u00e0-\\u00ff]+$", "\xc3\xa0\xc3\xbf"));
  EXPECT_TRUE(matches("^\\ud83d\\ude00$", "\xf0\x9f\x98\x80"));
  EXPECT_TRUE(matches("^(?:ab)+(?<name>c)$", "ababc"));
  EXPECT_TRUE(matches("^a{,2}$", "a{,2}"));  // not a quantifier: literal
  EXPECT_TRUE(matches("^[]a]$", "]a]") == false);
  EXPECT_TRUE(matches("^\\x41\\t$", "A\t"));
}

TEST(Regex, Unsupported) {
  for (std::string_view p : {"(a)\\1", "a(?=b)", "a(?!b)", "(?<=a)b", "\\bword", "\\p{L}", "a**", "(", "a)",
                             "[a", "x{2,1}", "a{1001}", "^(a^)", "a$b", "\\q"}) {
    EXPECT_FALSE(grammar::compile_regex(p).ok()) << p;
  }
}

TEST(Regex, BoundedRepetitions) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "\xc3\xa9";
  EXPECT_TRUE(matches("^.{1,100}$", hundred));
  EXPECT_FALSE(matches("^.{1,100}$", hundred + "x"));
  EXPECT_TRUE(matches("^[A-Za-z0-9 ]{1,255}$", std::string(255, 'a')));
  // Too many states: refused with advice, not compiled for seconds.
  auto big = grammar::compile_regex("^.{0,1000}$");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().find("too complex"), std::string::npos);
  EXPECT_FALSE(grammar::compile_regex("a.{20}$").ok());  // 2^20 states unanchored
}

TEST(Regex, LongAlternation) {
  // From json_schema_fuzz (once over 10 s under ASan: sorting each state's
  // 256 transitions): an unanchored alternation of long runs.
  const std::string run(25, '}');
  const std::string pattern = "(ab|c)+\\d" + run + "|}}*" + run + "|}}}}A" + run + run + "|}}typetycindpe}" +
                              run + "|}}}}A" + run + "{2,3}[^x-z]";
  auto dfa = grammar::compile_regex(pattern);
  ASSERT_TRUE(dfa.ok()) << dfa.error();
  EXPECT_TRUE(dfa->matches("xxab7" + run));
  EXPECT_TRUE(dfa->matches(std::string(26, '}')));  // }}* then 25 more
  EXPECT_FALSE(dfa->matches(run));
}

TEST(Regex, Distances) {
  auto dfa = grammar::compile_regex("^a\xc3\xa9{2,3}b?$");
  ASSERT_TRUE(dfa.ok());
  EXPECT_EQ(dfa->min_chars[0], 3u);  // characters, not bytes
  EXPECT_EQ(dfa->max_chars[0], 5u);
  auto loop = grammar::compile_regex("^a+$");
  ASSERT_TRUE(loop.ok());
  EXPECT_EQ(loop->max_chars[0], grammar::Dfa::kUnbounded);
  EXPECT_TRUE(grammar::compile_regex("^a[^\\s\\S]$")->empty());  // matches nothing
  // Without the bytes JSON escapes, "a\"b" can no longer match.
  auto quote = grammar::compile_regex("^a\"b$");
  ASSERT_TRUE(quote.ok());
  EXPECT_FALSE(quote->empty());
  EXPECT_TRUE(grammar::without_escaped_bytes(*quote).empty());
}

}  // namespace
}  // namespace gs
