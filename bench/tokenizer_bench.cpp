// Tokenizer throughput: `genstack_tokenizer_bench VOCAB.gguf TEXT [-r N]`
// encodes the whole text in one call and again line by line (as a server
// encodes many short prompts), best of N runs each, and prints tokens/s.
// The mixed text comes from tools/tokenizer-parity (build_corpus.mjs bench);
// bench.mjs there measures Hugging Face's JS tokenizer on the same file.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<std::string_view> split_lines(const std::string& text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    lines.push_back(std::string_view(text).substr(start, nl + 1 - start));
    start = nl + 1;
  }
  if (start < text.size()) lines.push_back(std::string_view(text).substr(start));
  return lines;
}

template <typename Fn>
void measure(const char* what, size_t bytes, int runs, Fn fn) {
  double best = 1e30;
  size_t tokens = 0;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    tokens = fn();
    best = std::min(best, seconds_since(start));
  }
  std::printf("%-10s %10zu tokens  %8.3f s  %12.0f tokens/s  %7.2f MB/s\n", what, tokens, best, tokens / best,
              bytes / best / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s VOCAB.gguf TEXT [-r RUNS]\n", argv[0]);
    return 2;
  }
  const int runs = argc >= 5 && std::string(argv[3]) == "-r" ? std::atoi(argv[4]) : 3;
  auto file = gs::gguf::File::open(argv[1]);
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", file.error().c_str());
    return 1;
  }
  auto tokenizer = gs::Tokenizer::from_gguf(**file);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "%s\n", tokenizer.error().c_str());
    return 1;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::vector<std::string_view> lines = split_lines(text);
  const gs::Tokenizer& tok = **tokenizer;
  std::printf("%s: %zu bytes, %zu lines\n", argv[2], text.size(), lines.size());
  measure("whole", text.size(), runs, [&] { return tok.encode(text, false, true).size(); });
  measure("per-line", text.size(), runs, [&] {
    size_t n = 0;
    for (std::string_view line : lines) n += tok.encode(line, false, true).size();
    return n;
  });
  return 0;
}
