// TokenFilter::allowed over a synthetic 50k-token vocabulary in the states a
// response_format sequence spends its time in. The vocabulary mixes what
// byte-level BPE vocabularies hold: the 256 single bytes, JSON pieces,
// numbers, words with and without a leading space or quote, whitespace runs,
// multi-byte UTF-8, and random-ish byte strings.
//   genstack_grammar_bench --benchmark_filter=InString
#include <benchmark/benchmark.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "grammar/json_grammar.h"
#include "grammar/token_filter.h"

namespace gs {
namespace {

constexpr size_t kVocab = 50000;

std::vector<std::string> synthetic_vocab() {
  std::mt19937 rng(42);
  std::set<std::string> seen;
  std::vector<std::string> v;
  auto add = [&](std::string s) {
    if (v.size() < kVocab && seen.insert(s).second) v.push_back(std::move(s));
  };
  for (int b = 0; b < 256; ++b) add(std::string(1, static_cast<char>(b)));
  for (const char* s : {"{\"",   "\":",     "\": ",  "\",",  "\", \"", "\"}",   "\"]",    "}}",    "]}",
                        "},",    "],",      "[]",    "{}",   " {",     " [",    "true",   "false", "null",
                        " true", " false",  " null", "\\n",  "\\\"",   "\\u00", "\n",     "\n\n",  "\r\n",
                        "```",   "```json", "\":\"", "\":[", "\":{",   "\",\"", "\"},{\""}) {
    add(s);
  }
  for (int i = 0; i < 1000; ++i) add(std::to_string(i));
  for (size_t n = 1; n <= 32; ++n) {
    add(std::string(n, ' '));
    std::string indent(n + 1, ' ');
    indent[0] = '\n';
    add(std::move(indent));
  }
  const char* utf8[] = {"\xc3\xa9",     "\xc3\xb6",         "\xe2\x82\xac", "\xe4\xbd\xa0",
                        "\xe5\xa5\xbd", "\xf0\x9f\x98\x80", "\xd0\xb4"};
  std::geometric_distribution<int> length(0.22);
  std::uniform_int_distribution<int> pick(0, 99);
  while (v.size() < kVocab) {
    const int len = 1 + std::min(length(rng), 15);
    std::string s;
    const int kind = pick(rng);
    if (kind < 50) s.push_back(kind < 35 ? ' ' : kind < 45 ? '"' : '_');  // " word", "\"word", "_word"
    for (int i = 0; i < len; ++i) {
      const int c = pick(rng);
      if (c < 75) {
        s += static_cast<char>('a' + pick(rng) % 26);
      } else if (c < 85) {
        s += static_cast<char>('A' + pick(rng) % 26);
      } else if (c < 90) {
        s += static_cast<char>('0' + pick(rng) % 10);
      } else if (c < 96) {
        s += "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"[pick(rng) % 30];
      } else {
        s += utf8[pick(rng) % 7];
      }
    }
    if (kind >= 95) s += "\"";  // "word\""
    add(std::move(s));
  }
  return v;
}

const TokenFilter& filter() {
  static const TokenFilter f(synthetic_vocab(), {0});
  return f;
}

std::shared_ptr<const JsonGrammar> person_schema() {
  static const auto g = JsonGrammar::from_schema(boost::json::parse(R"({
    "type": "object", "additionalProperties": false,
    "required": ["name", "age", "email", "tags", "address"],
    "properties": {
      "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150},
      "email": {"type": "string", "format": "email"},
      "tags": {"type": "array", "items": {"type": "string"}},
      "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}}}})"))
                            .value();
  return g;
}

void run(benchmark::State& state, const std::shared_ptr<const JsonGrammar>& grammar,
         std::string_view prefix) {
  JsonMatcher m(grammar);
  if (!m.advance(prefix)) state.SkipWithError("prefix rejected");
  std::vector<uint8_t> mask;
  size_t allowed = 0;
  for (auto _ : state) {
    filter().allowed(m, mask);
    benchmark::DoNotOptimize(mask.data());
  }
  for (uint8_t x : mask) allowed += x;
  state.counters["allowed"] = static_cast<double>(allowed);
  state.counters["trie_nodes"] = static_cast<double>(filter().trie_nodes());
}

void BM_Start(benchmark::State& s) { run(s, person_schema(), ""); }
void BM_InString(benchmark::State& s) { run(s, person_schema(), R"({"name": "Jo)"); }
void BM_AfterComma(benchmark::State& s) { run(s, person_schema(), R"({"name": "John", )"); }
void BM_AfterColon(benchmark::State& s) { run(s, person_schema(), R"({"name": "John", "age": )"); }
void BM_InNumber(benchmark::State& s) { run(s, person_schema(), R"({"name": "John", "age": 4)"); }
void BM_InEmail(benchmark::State& s) {
  run(s, person_schema(), R"({"name": "John", "age": 42, "email": "jo)");
}
void BM_AnyObjectInString(benchmark::State& s) { run(s, JsonGrammar::any_object(), R"({"a": [1, {"b": "x)"); }
void BM_AnyObjectAfterComma(benchmark::State& s) { run(s, JsonGrammar::any_object(), R"({"a": 1, )"); }

BENCHMARK(BM_Start)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_InString)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AfterComma)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AfterColon)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_InNumber)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_InEmail)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AnyObjectInString)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AnyObjectAfterComma)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace gs
