// JsonGrammar / JsonMatcher: accept and reject tables per schema keyword,
// prefix validity byte by byte, limits, and schema errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "grammar/json_grammar.h"

namespace gs {
namespace {

namespace json = boost::json;

std::shared_ptr<const JsonGrammar> compile(std::string_view schema) {
  boost::system::error_code ec;
  json::value v = json::parse(schema, ec);
  EXPECT_FALSE(ec) << schema;
  auto g = JsonGrammar::from_schema(v);
  EXPECT_TRUE(g.ok()) << schema << ": " << g.error();
  return g.ok() ? *g : JsonGrammar::any_object();
}

std::string compile_error(std::string_view schema) {
  auto g = JsonGrammar::from_schema(json::parse(schema));
  return g.ok() ? std::string("(compiled)") : g.error();
}

// Whether `text` is accepted as a whole document, fed in one piece; the
// byte-at-a-time answer must agree.
bool accepts(const std::shared_ptr<const JsonGrammar>& g, std::string_view text) {
  JsonMatcher whole(g);
  const bool ok = whole.advance(text) && whole.complete();
  JsonMatcher bytes(g);
  bool prefix = true;
  for (char c : text) prefix = prefix && bytes.advance(std::string_view(&c, 1));
  EXPECT_EQ(ok, prefix && bytes.complete()) << text;
  return ok;
}

// Whether `text` is a valid prefix (accepted so far, complete or not).
bool prefix(const std::shared_ptr<const JsonGrammar>& g, std::string_view text) {
  JsonMatcher m(g);
  return m.advance(text);
}

struct Table {
  std::string schema;
  std::vector<std::string> accept;
  std::vector<std::string> reject;
};

void check(const Table& t) {
  auto g = compile(t.schema);
  for (const std::string& s : t.accept) EXPECT_TRUE(accepts(g, s)) << t.schema << " should accept " << s;
  for (const std::string& s : t.reject) EXPECT_FALSE(accepts(g, s)) << t.schema << " should reject " << s;
}

TEST(JsonGrammar, AnyObject) {
  auto g = JsonGrammar::any_object();
  for (std::string_view s :
       {"{}", R"({"a":1})", R"({ "a" : [1, 2.5e-3, true, null, {"b": "c"}] })",
        R"({"\u00e9\ud83d\ude00": "\n\t\\\""})", "{\"k\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
        R"({"a":{"a":{"a":[[[]]]}}})", R"({"a":-0,"b":0.5,"c":1E+2,"d":-12e-01})"}) {
    EXPECT_TRUE(accepts(g, s)) << s;
  }
  for (std::string_view s : {"",
                             "[]",
                             "1",
                             "\"x\"",
                             "{",
                             "{\"a\"}",
                             "{\"a\":}",
                             "{\"a\":1,}",
                             "{,}",
                             "{'a':1}",
                             R"({"a":01})",
                             R"({"a":1.})",
                             R"({"a":.5})",
                             R"({"a":+1})",
                             R"({"a":1e})",
                             R"({"a":tru})",
                             R"({"a":"\x"})",
                             R"({"a":"\u12"})",
                             R"({"a":"\udc00"})",
                             R"({"a":"\ud800"})",
                             R"({"a":"\ud800\u0041"})",
                             "{\"a\":\"\x01\"}",
                             "{\"a\":\"\xc0\xaf\"}",
                             "{\"a\":\"\xed\xa0\x80\"}",
                             "{\"a\":\"\xf4\x90\x80\x80\"}",
                             "{\"a\":\"\xff\"}",
                             R"({"a":1} )",
                             R"({"a":1}{})"}) {
    EXPECT_FALSE(accepts(g, s)) << s;
  }
}

TEST(JsonGrammar, CompleteAndFinished) {
  auto g = JsonGrammar::any_object();
  JsonMatcher m(g);
  EXPECT_FALSE(m.complete());
  EXPECT_TRUE(m.advance(" {\"a\": 1"));
  EXPECT_FALSE(m.complete());
  EXPECT_TRUE(m.advance("}"));
  EXPECT_TRUE(m.complete());
  EXPECT_TRUE(m.finished());
  EXPECT_FALSE(m.advance(" "));  // nothing after the root, not even whitespace
  EXPECT_TRUE(m.finished());

  // A root number can always take another digit: complete, never finished.
  auto n = compile(R"({"type": "number"})");
  JsonMatcher k(n);
  EXPECT_TRUE(k.advance("12"));
  EXPECT_TRUE(k.complete());
  EXPECT_FALSE(k.finished());
  EXPECT_TRUE(k.advance(".5"));
  EXPECT_TRUE(k.complete());
}

TEST(JsonGrammar, FailedAdvanceLeavesStateUnchanged) {
  auto g = JsonGrammar::any_object();
  JsonMatcher m(g);
  ASSERT_TRUE(m.advance("{\"a\":"));
  EXPECT_FALSE(m.advance(" 1x"));  // "1" would be fine, "x" is not: nothing is taken
  EXPECT_TRUE(m.advance("true}"));
  EXPECT_TRUE(m.complete());
}

TEST(JsonGrammar, Copies) {
  auto g = JsonGrammar::any_object();
  JsonMatcher a(g);
  ASSERT_TRUE(a.advance("{\"x\":["));
  JsonMatcher b = a;
  EXPECT_TRUE(b.advance("1]}"));
  EXPECT_TRUE(b.complete());
  EXPECT_FALSE(a.complete());
  EXPECT_TRUE(a.advance("]}"));
  a = b;
  EXPECT_TRUE(a.finished());
}

TEST(JsonGrammar, Types) {
  check({R"({"type": "string"})", {R"("")", R"("abc")"}, {"1", "null", "{}", R"("a)"}});
  check({R"({"type": "integer"})", {"0", "-7", "123456789012345"}, {"1.5", "1e3", "-", "01", "\"1\""}});
  check({R"({"type": "number"})", {"0", "-7.25", "1e-3", "6.02E+23"}, {"1.", "NaN", "Infinity", "--1"}});
  check({R"({"type": "boolean"})", {"true", "false"}, {"True", "1", "null"}});
  check({R"({"type": "null"})", {"null"}, {"nul", "nulll", "0"}});
  check({R"({"type": "array"})", {"[]", "[1, \"a\", [null]]"}, {"[", "[1,]", "{}"}});
  check({R"({"type": ["string", "null"]})", {R"("x")", "null"}, {"1", "[]"}});
  check({R"({})", {"1", "\"s\"", "[{}]", "{\"a\":[]}", "null"}, {"", "x"}});
  check({R"(true)", {"1", "{}"}, {"}"}});
}

TEST(JsonGrammar, ObjectProperties) {
  const std::string schema = R"({"type": "object",
      "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "tags": {"type": "array",
        "items": {"type": "string"}}},
      "required": ["name"]})";
  check({schema,
         {R"({"name": "Ann"})", R"({"name": "Ann", "age": 3})", R"({"name": "Ann", "tags": []})",
          R"({"name":"Ann","age":3,"tags":["a","b"]})", "{\n\"name\": \"Ann\",\n\"age\": 3\n}"},
         {"{}", R"({"age": 3})", R"({"age": 3, "name": "Ann"})", R"({"name": "Ann", "name": "Bob"})",
          R"({"name": "Ann", "other": 1})", R"({"name": 1})", R"({"name": "Ann", "age": 3.5})",
          R"({"nam": "Ann"})", R"({"names": "Ann"})", R"({"name": "Ann",})"}});
  auto g = compile(schema);
  EXPECT_FALSE(prefix(g, R"({"x)"));    // no listed key starts with x
  EXPECT_FALSE(prefix(g, R"({"age)"));  // age may not come before the required name
  EXPECT_TRUE(prefix(g, R"({"na)"));
  EXPECT_FALSE(prefix(g, R"({"name": "A", "name)"));  // a key twice
}

TEST(JsonGrammar, StrictModeAllRequired) {
  check({R"({"type":"object","additionalProperties":false,"required":["a","b"],
             "properties":{"a":{"type":"string"},"b":{"type":["integer","null"]}}})",
         {R"({"a":"x","b":null})", R"({"a":"x","b":-3})"},
         {R"({"a":"x"})", R"({"b":1,"a":"x"})", R"({"a":"x","b":1,"c":2})", "{}"}});
}

TEST(JsonGrammar, AdditionalProperties) {
  check(
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}})",
       {R"({})", R"({"a":1})", R"({"b":"x"})", R"({"b":"x","a":1,"c":"y"})", R"({"ab":"x"})", R"({"":"x"})"},
       {R"({"a":"x"})", R"({"b":1})", R"({"a":1,"a":2})", R"({"a\u0062":"x"})"}});
  check({R"({"type":"object","additionalProperties":{"type":"number"}})",
         {R"({})", R"({"x":1,"y\n\u00e9":2.5})"},
         {R"({"x":"1"})"}});
  check({R"({"type":"object","additionalProperties":false})", {"{}", "{ }"}, {R"({"a":1})"}});
  // Without additionalProperties, listed properties only.
  check({R"({"type":"object","properties":{"a":{}}})", {"{}", R"({"a":[1]})"}, {R"({"b":1})"}});
  check({R"({"type":"object","properties":{}})", {"{}"}, {R"({"b":1})"}});
  // A required name without a schema of its own takes any value.
  check({R"({"type":"object","properties":{"a":{"type":"integer"}},"required":["a","z"]})",
         {R"({"a":1,"z":{"q":[]}})"},
         {R"({"a":1})", R"({"z":1})"}});
}

TEST(JsonGrammar, KeysWithEscapes) {
  // Listed keys are matched in their canonical form (as a serializer writes them).
  check({R"({"type":"object","properties":{"a\"b":{"type":"integer"},"c\nd":{"type":"integer"},"\u00e9":{}},
            "additionalProperties":false})",
         {R"({"a\"b":1})", R"({"c\nd":1})", "{\"\xc3\xa9\":1}"},
         {R"({"a\u0022b":1})", R"({"\u00e9":1})"}});
}

TEST(JsonGrammar, Arrays) {
  check({R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})",
         {"[1]", "[1,2,3]", "[ 1 , 2 ]"},
         {"[]", "[1,2,3,4]", "[1.5]", "[\"a\"]"}});
  check({R"({"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false})",
         {"[]", R"(["a"])", R"(["a",1])"},
         {R"([1])", R"(["a",1,2])", R"(["a","b"])"}});
  check({R"({"type":"array","prefixItems":[{"type":"string"}],"items":{"type":"null"},"minItems":2})",
         {R"(["a",null])", R"(["a",null,null])"},
         {R"(["a"])", R"(["a",1])"}});
  check({R"({"type":"array","items":[{"type":"boolean"}],"additionalItems":false})",
         {"[]", "[true]"},
         {"[true,false]", "[1]"}});
  check({R"({"type":"array","maxItems":0})", {"[]", "[ ]"}, {"[1]"}});
}

TEST(JsonGrammar, EnumAndConst) {
  check({R"({"enum": ["red", "green", 1, 12, null, {"a": [1, 2]}, 1.5]})",
         {R"("red")", R"("green")", "1", "12", "null", R"({"a":[1,2]})", "1.5"},
         {R"("r")", R"("blue")", "2", "123", "1.0", "true", R"({"a": [1, 2]})"}});
  check({R"({"const": "fixed"})", {R"("fixed")"}, {R"("fixe")", R"("fixed2")"}});
  // Values that break the schema's other keywords are not offered.
  check({R"({"type": "string", "enum": ["a", 1, "bb"], "maxLength": 1})", {R"("a")"}, {"1", R"("bb")"}});
  check({R"({"enum": ["a\"b", "\u00e9"]})", {R"("a\"b")", "\"\xc3\xa9\""}, {R"("a\u0022b")"}});
  auto g = compile(R"({"enum": [1, 12]})");
  JsonMatcher m(g);
  ASSERT_TRUE(m.advance("1"));
  EXPECT_TRUE(m.complete());
  EXPECT_FALSE(m.finished());
  ASSERT_TRUE(m.advance("2"));
  EXPECT_TRUE(m.finished());
}

TEST(JsonGrammar, AnyOf) {
  check({R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})", {R"("a")", "3"}, {"3.5", "null"}});
  check({R"({"oneOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                      {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}]})",
         {R"({"a":1})", R"({"b":"x"})"},
         {R"({"a":"x"})", R"({"b":1})", R"({"a":1,"b":"x"})", "{}"}});
  // Alternatives that share a long prefix stay alive together.
  check(
      {R"({"anyOf": [{"const": {"kind": "a", "v": 1}}, {"type": "object", "properties": {"kind": {"const": "b"},
          "w": {"type": "boolean"}}, "required": ["kind", "w"]}]})",
       {R"({"kind":"a","v":1})", R"({"kind":"b","w":true})", R"({"kind": "b", "w": false})"},
       {R"({"kind":"a","w":true})", R"({"kind":"b","v":1})"}});
  check({R"({"allOf": [{"type": "integer"}]})", {"1"}, {"\"1\""}});
  check({R"({"anyOf": [{"type": "integer"}, {"type": "number"}, {"enum": [1, 2]}]})",
         {"1", "2", "2.5"},
         {"x"}});
}

TEST(JsonGrammar, Refs) {
  const std::string tree = R"({"$defs": {"node": {"type": "object", "properties": {
      "value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
      "required": ["value"], "additionalProperties": false}}, "$ref": "#/$defs/node"})";
  check({tree,
         {R"({"value":1})", R"({"value":1,"children":[{"value":2},{"value":3,"children":[]}]})"},
         {R"({"value":1,"children":[{}]})", R"({"children":[]})"}});
  check(
      {R"({"definitions": {"s": {"type": "string"}}, "type": "array", "items": {"$ref": "#/definitions/s"}})",
       {R"(["a","b"])"},
       {"[1]"}});
  // Root recursion: a list of lists.
  check({R"({"type": "array", "items": {"$ref": "#"}})", {"[]", "[[],[[]]]"}, {"[1]"}});
}

TEST(JsonGrammar, StringLengths) {
  check({R"({"type":"string","minLength":2,"maxLength":3})",
         {R"("ab")", R"("abc")", "\"\xc3\xa9\xc3\xa9\"", R"("\u00e9\n")", R"("\ud83d\ude00\ud83d\ude00")"},
         {R"("a")", R"("abcd")", "\"\xc3\xa9\"", R"("\ud83d\ude00")", R"("abc\n")"}});
  auto g = compile(R"({"type":"string","maxLength":2})");
  EXPECT_TRUE(prefix(g, "\"ab"));
  EXPECT_FALSE(prefix(g, "\"abc"));
  EXPECT_FALSE(prefix(g, "\"ab\\"));  // an escape would be a third character
}

TEST(JsonGrammar, IntegerBounds) {
  check({R"({"type":"integer","minimum":10,"maximum":250})",
         {"10", "99", "250", "100"},
         {"9", "251", "-10", "1000", "0", "010"}});
  auto g = compile(R"({"type":"integer","minimum":10,"maximum":250})");
  EXPECT_TRUE(prefix(g, "2"));  // 2x, 2xx
  EXPECT_TRUE(prefix(g, "26"));
  EXPECT_FALSE(prefix(g, "260"));
  EXPECT_FALSE(prefix(g, "251"));
  EXPECT_TRUE(prefix(g, "25"));
  EXPECT_FALSE(prefix(g, "-"));
  EXPECT_FALSE(prefix(g, "0"));
  check({R"({"type":"integer","exclusiveMinimum":-3,"exclusiveMaximum":3})",
         {"-2", "0", "2", "-0"},
         {"-3", "3", "-20"}});
  check({R"({"type":"integer","minimum":0.5,"maximum":2.5})", {"1", "2"}, {"0", "3"}});
  check({R"({"type":"integer","minimum":5,"exclusiveMinimum":true})", {"6"}, {"5"}});  // draft 4
}

TEST(JsonGrammar, NumberBounds) {
  check({R"({"type":"number","minimum":0,"maximum":1})",
         {"0", "1", "0.5", "0.999", "1.0", "1.000", "-0"},
         {"1.5", "-0.1", "2", "1.0001", "1e0", "10"}});
  check({R"({"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1})",
         {"0.5", "0.001"},
         {"0", "1", "0.0", "1.0"}});
  // Decimal bounds compare as a JSON parser reads the digits (0.3 is not 3 * 0.1).
  check({R"({"type":"number","minimum":0.07,"maximum":0.3})",
         {"0.3", "0.07", "0.1", "0.2999999", "0.30000", "0.070"},
         {"0.31", "0.0699", "0.30000000001", "1"}});
  check({R"({"type":"integer","minimum":9007199254740993,"maximum":9007199254740995})",
         {"9007199254740994"},
         {"9007199254740990", "900719925474099"}});
  auto g = compile(R"({"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1})");
  EXPECT_TRUE(prefix(g, "0.0"));  // 0.01
  EXPECT_FALSE(prefix(g, "1"));
}

TEST(JsonGrammar, Formats) {
  check({R"({"type":"string","format":"date"})",
         {R"("2024-02-29")"},
         {R"("2024-13-01")", R"("24-01-01")", R"("2024-01-32")"}});
  check({R"({"type":"string","format":"date-time"})",
         {R"("2024-02-29T13:45:00Z")", R"("2024-02-29T13:45:00.123+02:00")"},
         {R"("2024-02-29 13:45:00")", R"("2024-02-29T25:00:00Z")", R"("2024-02-29T13:45:00")"}});
  check({R"({"type":"string","format":"uuid"})",
         {R"("123e4567-e89b-12d3-a456-426614174000")"},
         {R"("123e4567e89b12d3a456426614174000")", R"("123e4567-e89b-12d3-a456-42661417400g")"}});
  check({R"({"type":"string","format":"email"})",
         {R"("a.b+c@example.com")", R"("x@y")"},
         {R"("a@")", R"("@b.c")", R"("a b@c.d")", R"("a@b@c")"}});
  check({R"({"type":"string","format":"ipv4"})", {R"("192.168.0.1")"}, {R"("256.1.1.1")", R"("1.2.3")"}});
  check({R"({"type":"string","format":"uri"})", {R"("anything")"}, {}});  // an annotation
}

TEST(JsonGrammar, Patterns) {
  check({R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"})",
         {R"("AB-123")"},
         {R"("AB-12")", R"("ab-123")", R"("xAB-123")"}});
  check({R"({"type":"string","pattern":"cat|dog"})", {R"("a cat!")", R"("dog")"}, {R"("cow")", R"("")"}});
  check({R"({"type":"string","pattern":"^(a|b)*c?$","maxLength":3})",
         {R"("")", R"("abc")", R"("ab")"},
         {R"("abab")", R"("ca")"}});
  check({R"({"type":"string","pattern":"^[^a-c]+$"})",
         {"\"xyz\"", "\"\xc3\xa9\xf0\x9f\x98\x80\""},
         {"\"xaz\"", "\"\""}});
  check({R"({"type":"string","pattern":"^\\u00e9.$"})", {"\"\xc3\xa9\xe2\x82\xac\""}, {"\"ee\""}});
  // A pattern with a required length the maxLength cannot fit.
  auto g = compile(R"({"type":"string","pattern":"^a+b$","maxLength":3})");
  EXPECT_TRUE(prefix(g, "\"aa"));
  EXPECT_FALSE(prefix(g, "\"aaa"));  // no room left for the b
}

TEST(JsonGrammar, WhitespaceIsBounded) {
  auto g = JsonGrammar::any_object();
  EXPECT_TRUE(accepts(g, "{\n\"a\": 1 }"));
  EXPECT_TRUE(accepts(g, "{\"a\":1}"));
  EXPECT_FALSE(prefix(g, "{  "));
  EXPECT_FALSE(prefix(g, "{\"a\":\n\n"));
  EXPECT_TRUE(prefix(g, " {"));
  EXPECT_FALSE(prefix(g, "  {"));
}

TEST(JsonGrammar, DepthIsBounded) {
  auto g = compile(R"({"type": "array"})");
  EXPECT_TRUE(accepts(g, std::string(64, '[') + std::string(64, ']')));
  EXPECT_FALSE(prefix(g, std::string(65, '[')));
}

TEST(JsonGrammar, NumbersAreBounded) {
  auto g = compile(R"({"type": "number"})");
  EXPECT_TRUE(accepts(g, std::string(20, '9')));
  EXPECT_FALSE(prefix(g, std::string(21, '9')));
  EXPECT_TRUE(accepts(g, "1e99"));
  EXPECT_FALSE(prefix(g, "1e999"));
}

TEST(JsonGrammar, Utf8SplitAcrossTokens) {
  auto g = compile(R"({"type":"string"})");
  JsonMatcher m(g);
  ASSERT_TRUE(m.advance("\"\xe2\x82"));  // the first two bytes of a three-byte character
  EXPECT_FALSE(m.complete());
  JsonMatcher bad = m;
  EXPECT_FALSE(bad.advance("\""));    // cannot close mid-character
  EXPECT_FALSE(bad.advance("\xe2"));  // not a continuation byte
  EXPECT_TRUE(m.advance("\xac\""));   // ... and the last: U+20AC
  EXPECT_TRUE(m.finished());
  JsonMatcher n(g);
  EXPECT_TRUE(n.advance("\"\xf0"));
  EXPECT_FALSE(n.advance("\x8f"));  // F0 needs 90-BF next (no overlong forms)
  EXPECT_TRUE(n.advance("\x9f\x98"));
  EXPECT_TRUE(n.advance("\x80\""));
}

TEST(JsonGrammar, SchemaErrors) {
  EXPECT_NE(compile_error(R"({"type": "string", "not": {"const": "x"}})").find("'not'"), std::string::npos);
  EXPECT_NE(compile_error(R"({"properties": {"a": {"multipleOf": 2}}})")
                .find("#/properties/a: schema keyword 'multipleOf'"),
            std::string::npos);
  EXPECT_NE(compile_error(R"({"type": "strin"})").find("unknown type 'strin'"), std::string::npos);
  EXPECT_NE(compile_error(R"({"$ref": "#/$defs/missing"})").find("does not point"), std::string::npos);
  EXPECT_NE(compile_error(R"({"$ref": "http://example.com/s.json"})").find("only references inside"),
            std::string::npos);
  EXPECT_NE(compile_error(R"({"allOf": [{"type": "string"}, {"minLength": 1}]})").find("allOf"),
            std::string::npos);
  EXPECT_NE(compile_error(R"({"type": "object", "anyOf": [{}]})").find("'anyOf' together with 'type'"),
            std::string::npos);
  EXPECT_NE(compile_error(R"({"type": "string", "pattern": "(a)\\1"})").find("backreferences"),
            std::string::npos);
  EXPECT_NE(compile_error(R"j({"type": "string", "pattern": "a(?=b)"})j").find("lookaround"),
            std::string::npos);
  EXPECT_NE(compile_error(R"({"type": "string", "minLength": -1})").find("non-negative integer"),
            std::string::npos);
  EXPECT_NE(compile_error(R"({"type": "string", "minLength": 3, "maxLength": 2})").find("accepts no value"),
            std::string::npos);
  EXPECT_NE(compile_error(R"({"enum": []})").find("accepts no value"), std::string::npos);
  EXPECT_NE(compile_error(
                R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})")
                .find("cycle"),
            std::string::npos);
  // A required property that can never exist.
  EXPECT_NE(compile_error(R"({"type": "object", "properties": {"a": false}, "required": ["a"]})")
                .find("accepts no value"),
            std::string::npos);
  EXPECT_NE(compile_error("1").find("must be an object or a boolean"), std::string::npos);
  // Annotations are fine.
  EXPECT_EQ(compile_error(R"({"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "t",
      "description": "d", "examples": [1], "default": 1, "type": "integer", "x-custom": 1, "deprecated": true})"),
            "(compiled)");
}

TEST(JsonGrammar, UnsatisfiablePartsAreNeverOffered) {
  // An optional property whose schema is false may simply never be written.
  check({R"({"type":"object","properties":{"a":false,"b":{"type":"integer"}}})",
         {R"({"b":1})", "{}"},
         {R"({"a":1})"}});
  auto g = compile(R"({"type":"object","properties":{"a":false,"b":{"type":"integer"}}})");
  EXPECT_FALSE(prefix(g, R"({"a)"));
  // An anyOf branch that cannot be satisfied is dropped.
  check(
      {R"({"anyOf":[{"type":"string","minLength":5,"maxLength":1},{"type":"null"}]})", {"null"}, {R"("")"}});
}

TEST(JsonGrammar, ResponseFormat) {
  auto text = JsonGrammar::from_response_format(json::parse(R"({"type": "text"})"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, nullptr);
  auto object = JsonGrammar::from_response_format(json::parse(R"({"type": "json_object"})"));
  ASSERT_TRUE(object.ok());
  EXPECT_NE(*object, nullptr);
  auto schema = JsonGrammar::from_response_format(json::parse(
      R"({"type": "json_schema", "json_schema": {"name": "x", "strict": true, "schema": {"type": "integer"}}})"));
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(accepts(*schema, "42"));
  auto bad = JsonGrammar::from_response_format(json::parse(
      R"({"type": "json_schema", "json_schema": {"schema": {"type": "integer", "uniqueItems": true}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("response_format.json_schema.schema: #: schema keyword 'uniqueItems'"),
            std::string::npos)
      << bad.error();
  EXPECT_FALSE(JsonGrammar::from_response_format(json::parse(R"({"type": "yaml"})")).ok());
}

}  // namespace
}  // namespace gs
