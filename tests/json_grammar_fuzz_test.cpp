// TokenFilter masks against a token-by-token check, and the property test:
// random walks through a toy vocabulary, always picking an allowed token,
// must never reach a dead end, and every document they complete must parse
// and satisfy its schema.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "grammar/json_grammar.h"
#include "grammar/token_filter.h"
#include "grammar/validate.h"

namespace gs {
namespace {

namespace json = boost::json;

// Single characters, common multi-character JSON pieces, words the schemas
// below use, and UTF-8 characters whole and split across tokens.
std::vector<std::string> toy_vocab() {
  std::vector<std::string> v;
  for (int c = 0x20; c < 0x7F; ++c) v.emplace_back(1, static_cast<char>(c));
  for (const char* s : {"\n",
                        "\t",
                        "  ",
                        "\n  ",
                        "\n    ",
                        "{\"",
                        "\":",
                        "\": ",
                        "\",",
                        "\", \"",
                        "\"}",
                        "\"]",
                        "}}",
                        "]}",
                        "}]",
                        "[]",
                        "{}",
                        "[[",
                        "]]",
                        "true",
                        "false",
                        "null",
                        "nu",
                        "ll",
                        "tr",
                        "ue",
                        "fa",
                        "lse",
                        "\\u00",
                        "\\u",
                        "\\ud83d",
                        "\\ude00",
                        "\\n",
                        "\\\"",
                        "\\\\",
                        "12",
                        "345",
                        "0.",
                        ".5",
                        "e+",
                        "E-",
                        "-1",
                        "00",
                        "name",
                        "age",
                        "id",
                        "kind",
                        "value",
                        "children",
                        "tags",
                        "\"name",
                        "\"value\"",
                        "\"kind\": \"",
                        "\"a\"",
                        "\"b\"",
                        "2024",
                        "-01",
                        "-12",
                        "T",
                        "Z",
                        ":00",
                        "12:30",
                        "+02:00",
                        ".123",
                        "abc",
                        "x@",
                        "@example",
                        ".com",
                        "550e8400",
                        "-e29b",
                        "-41d4",
                        "-a716",
                        "-446655440000",
                        "\xc3\xa9",
                        "\xe2\x82\xac",
                        "\xe2\x82",
                        "\xac",
                        "\xf0\x9f\x98\x80",
                        "\xf0\x9f",
                        "\x98\x80",
                        "\xc3",
                        "\xa9",
                        "\xff",
                        "\x01"}) {
    v.emplace_back(s);
  }
  return v;
}

struct Vocab {
  std::vector<std::string> bytes;
  int32_t eos = -1;      // empty bytes, an end token
  int32_t eot = -1;      // non-empty bytes, an end token
  int32_t control = -1;  // empty bytes, never allowed
};

Vocab make_vocab() {
  Vocab v;
  v.bytes = toy_vocab();
  v.eos = static_cast<int32_t>(v.bytes.size());
  v.bytes.emplace_back();
  v.eot = static_cast<int32_t>(v.bytes.size());
  v.bytes.emplace_back("<|eot|>");
  v.control = static_cast<int32_t>(v.bytes.size());
  v.bytes.emplace_back();
  v.bytes.push_back(v.bytes[5]);  // a duplicate of a single-character token
  return v;
}

// The mask must equal advancing a copy of the matcher by each token alone.
void expect_mask_exact(const Vocab& v, const JsonMatcher& m, const std::vector<uint8_t>& mask) {
  ASSERT_EQ(mask.size(), v.bytes.size());
  for (size_t id = 0; id < v.bytes.size(); ++id) {
    bool want;
    if (static_cast<int32_t>(id) == v.eos || static_cast<int32_t>(id) == v.eot) {
      want = m.complete();
    } else if (v.bytes[id].empty()) {
      want = false;
    } else {
      JsonMatcher copy = m;
      want = copy.advance(v.bytes[id]);
    }
    ASSERT_EQ(mask[id] != 0, want) << "token " << id << " '" << v.bytes[id] << "'";
  }
}

TEST(TokenFilter, MasksMatchTokenByTokenChecks) {
  const Vocab v = make_vocab();
  TokenFilter filter(v.bytes, {v.eos, v.eot});
  EXPECT_EQ(filter.vocab_size(), v.bytes.size());
  auto g = JsonGrammar::any_object();
  std::vector<uint8_t> mask;
  for (std::string_view prefix : {"", "{", "{\"", "{\"a", "{\"a\":", "{\"a\": 1", "{\"a\": \"\xe2\x82",
                                  "{\"a\": [1,", "{\"a\": {}}", "{\"a\": \"\\u", "{\"a\": \"\\ud83d"}) {
    JsonMatcher m(g);
    ASSERT_TRUE(m.advance(prefix)) << prefix;
    filter.allowed(m, mask);
    expect_mask_exact(v, m, mask);
  }
  JsonMatcher done(g);
  ASSERT_TRUE(done.advance("{}"));
  filter.allowed(done, mask);
  for (size_t id = 0; id < mask.size(); ++id) {
    EXPECT_EQ(mask[id] != 0, static_cast<int32_t>(id) == v.eos || static_cast<int32_t>(id) == v.eot) << id;
  }
}

TEST(TokenFilter, EmptyAndOddVocabularies) {
  TokenFilter empty({}, {});
  std::vector<uint8_t> mask(3, 1);
  empty.allowed(JsonMatcher(JsonGrammar::any_object()), mask);
  EXPECT_TRUE(mask.empty());
  // Out-of-range and repeated end ids are ignored.
  TokenFilter odd({"{", "}", "", "{}"}, {2, 2, -1, 9});
  JsonMatcher m(JsonGrammar::any_object());
  odd.allowed(m, mask);
  EXPECT_EQ(mask, (std::vector<uint8_t>{1, 0, 0, 1}));
  ASSERT_TRUE(m.advance("{}"));
  odd.allowed(m, mask);
  EXPECT_EQ(mask, (std::vector<uint8_t>{0, 0, 1, 0}));
}

const char* const kSchemas[] = {
    R"({"type": "object"})",
    R"({"type": "object", "additionalProperties": false, "required": ["name", "age", "tags"],
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 120},
                       "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3}}})",
    R"({"type": "object", "properties": {"id": {"type": "string", "format": "uuid"},
        "value": {"type": ["number", "null"], "minimum": -1, "maximum": 1}, "kind": {"enum": ["a", "b", 12, null]}},
        "required": ["kind"]})",
    R"({"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
        "required": ["value"], "additionalProperties": false}}, "$ref": "#/$defs/node"})",
    R"({"anyOf": [{"type": "object", "properties": {"kind": {"const": "a"}, "value": {"type": "string"}},
                   "required": ["kind", "value"], "additionalProperties": false},
                  {"type": "object", "properties": {"kind": {"const": "b"}, "value": {"type": "boolean"}},
                   "required": ["kind", "value"], "additionalProperties": false},
                  {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string", "minLength": 2}],
                   "items": false, "minItems": 2}]})",
    R"({"type": "object", "properties": {"name": {"type": "string", "minLength": 2, "maxLength": 6}},
        "additionalProperties": {"type": ["integer", "boolean"]}})",
    R"({"type": "object", "properties": {"a": {"type": "string", "format": "date-time"},
        "b": {"type": "string", "pattern": "^[a-z]+@[a-z]+\\.com$"}, "id": {"type": "string", "format": "date"}},
        "required": ["a", "b"], "additionalProperties": false})",
    R"({"type": "array", "items": {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"},
        {"type": "array", "items": {"type": "integer"}}]}, "minItems": 1})",
    R"({"type": "object", "additionalProperties": false, "properties": {"value": {"type": "integer",
        "exclusiveMinimum": -50, "exclusiveMaximum": 50}, "tags": {"type": "array", "items": {"enum": [true, [1, 2],
        {"x": "y"}]}}}, "required": ["value"]})",
    R"({"type": "string"})",
    R"({"type": "number"})",
};

// Walks the vocabulary at random under the schema's grammar; returns the
// text, or nothing if it ran out of steps.
struct Walk {
  std::string text;
  bool completed = false;
};

Walk random_walk(const Vocab& v, const TokenFilter& filter, const std::shared_ptr<const JsonGrammar>& g,
                 std::mt19937& rng, bool check_masks) {
  // Past the soft cap, closing tokens are favoured so that walks end.
  constexpr int kSoftCap = 120, kHardCap = 2000;
  static const std::vector<std::string> closers = {"\"",  "}",  "]",  "0",    "1",   "\"}",
                                                   "\"]", "}}", "]}", "null", "true"};
  JsonMatcher m(g);
  Walk w;
  std::vector<uint8_t> mask;
  for (int step = 0; step < kHardCap; ++step) {
    filter.allowed(m, mask);
    if (check_masks) expect_mask_exact(v, m, mask);
    std::vector<int32_t> allowed;
    for (size_t id = 0; id < mask.size(); ++id) {
      if (mask[id]) allowed.push_back(static_cast<int32_t>(id));
    }
    EXPECT_FALSE(allowed.empty()) << "dead end after: " << w.text;
    if (allowed.empty()) return w;
    const bool end_ok = mask[static_cast<size_t>(v.eos)] != 0;
    EXPECT_EQ(end_ok, m.complete());
    if (end_ok && (step > kSoftCap || std::uniform_int_distribution<int>(0, 9)(rng) < 3)) {
      w.completed = true;
      return w;
    }
    int32_t pick = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
    if (step > kSoftCap && std::uniform_int_distribution<int>(0, 9)(rng) < 8) {
      std::vector<int32_t> closing;
      for (int32_t id : allowed) {
        for (const std::string& c : closers) {
          if (v.bytes[static_cast<size_t>(id)] == c) closing.push_back(id);
        }
      }
      if (!closing.empty()) pick = closing[std::uniform_int_distribution<size_t>(0, closing.size() - 1)(rng)];
    }
    if (pick == v.eos || pick == v.eot) {
      w.completed = true;
      return w;
    }
    EXPECT_TRUE(m.advance(v.bytes[static_cast<size_t>(pick)]));
    w.text += v.bytes[static_cast<size_t>(pick)];
    if (m.finished()) {
      w.completed = true;
      return w;
    }
  }
  return w;
}

TEST(JsonGrammarProperty, RandomWalksGiveValidDocuments) {
  const Vocab v = make_vocab();
  TokenFilter filter(v.bytes, {v.eos, v.eot});
  std::mt19937 rng(20261201);
  for (const char* schema_text : kSchemas) {
    const json::value schema = json::parse(schema_text);
    auto g = JsonGrammar::from_schema(schema);
    ASSERT_TRUE(g.ok()) << g.error();
    int completed = 0;
    constexpr int kWalks = 60;
    for (int walk = 0; walk < kWalks; ++walk) {
      Walk w = random_walk(v, filter, *g, rng, /*check_masks=*/walk < 3);
      if (!w.completed) continue;
      ++completed;
      boost::system::error_code ec;
      const json::value doc = json::parse(w.text, ec);
      ASSERT_FALSE(ec) << schema_text << "\nproduced unparsable: " << w.text;
      const Status valid = validate_json(doc, schema);
      EXPECT_TRUE(valid.ok()) << schema_text << "\nproduced: " << w.text << "\n" << valid.message();
    }
    EXPECT_GE(completed, kWalks * 9 / 10) << schema_text;
  }
}

}  // namespace
}  // namespace gs
