// The engine computes what llama.cpp computes: prompt ids, logits of every
// prompt position and greedy continuations against ../shared/golden, on every
// test model, with the scalar kernels forced and with the best SIMD path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "model/context.h"
#include "model/model.h"
#include "tensor/cpu.h"
#include "test_util.h"

namespace gs {
namespace {

struct GoldenCase {
  std::string model;   // path under shared/models
  std::string golden;  // path under shared/golden
  double tolerance;    // max |Δlogit| / std(golden logits), from golden/README.md
};

std::vector<GoldenCase> all_cases() {
  std::vector<GoldenCase> cases = {{"models/stories260K.gguf", "golden/stories260K.greedy.jsonl", 0.01}};
  const char* types[] = {"f32",  "f16",  "bf16", "q8_0", "q4_0", "q4_1", "q5_0",
                         "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q4_k_m-mix"};
  for (const char* arch : {"tiny-llama", "tiny-qwen2"}) {
    for (const char* type : types) {
      const std::string t = type;
      const double tol = (t == "f32" || t == "f16") ? 0.01 : t == "bf16" ? 0.03 : 0.10;
      const std::string name = std::string(arch) + "-" + t;
      cases.push_back({"models/synthetic/" + name + ".gguf", "golden/" + name + ".jsonl", tol});
    }
  }
  return cases;
}

double stddev(const float* x, size_t n) {
  double mean = 0.0, var = 0.0;
  for (size_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  return std::sqrt(var / static_cast<double>(n));
}

TokenId argmax(const float* x, int64_t n) { return static_cast<TokenId>(std::max_element(x, x + n) - x); }

std::vector<TokenId> ids_of(const boost::json::value& v) {
  std::vector<TokenId> ids;
  for (const auto& x : v.as_array()) ids.push_back(static_cast<TokenId>(x.as_int64()));
  return ids;
}

class GoldenTest : public ::testing::TestWithParam<std::tuple<GoldenCase, SimdLevel>> {
 protected:
  void SetUp() override { force_simd(std::get<1>(GetParam())); }
  void TearDown() override { force_simd(std::nullopt); }
};

// Checks one golden line: prompt ids, per-position logits, greedy ids.
void check_line(const Model& model, Context& ctx, const boost::json::object& line, double tolerance) {
  const std::string prompt(line.at("prompt").as_string());
  const std::vector<TokenId> want_ids = ids_of(line.at("prompt_ids"));
  const std::vector<TokenId> ids = model.tokenizer().encode(prompt, model.tokenizer().add_bos_default());
  ASSERT_EQ(ids, want_ids) << "prompt: " << prompt;

  const int64_t vocab = model.config().n_vocab;
  ctx.truncate(0);
  auto logits = ctx.eval(ids, /*all_logits=*/true);
  ASSERT_TRUE(logits.ok()) << logits.error();
  const auto& golden_logits = line.at("prompt_logits").as_array();
  ASSERT_EQ(golden_logits.size(), ids.size());
  std::vector<float> want(static_cast<size_t>(vocab));
  for (size_t pos = 0; pos < ids.size(); ++pos) {
    const auto& row = golden_logits[pos].as_array();
    ASSERT_EQ(static_cast<int64_t>(row.size()), vocab);
    for (size_t i = 0; i < row.size(); ++i) want[i] = static_cast<float>(row[i].to_number<double>());
    const float* got = *logits + pos * static_cast<size_t>(vocab);
    double max_diff = 0.0;
    for (size_t i = 0; i < want.size(); ++i)
      max_diff = std::max(max_diff, std::fabs(double(got[i]) - want[i]));
    const double limit = tolerance * stddev(want.data(), want.size());
    ASSERT_LE(max_diff, limit) << "prompt '" << prompt << "' position " << pos;
  }

  // Greedy decoding one token at a time, as llama.cpp's reference did.
  const std::vector<TokenId> greedy = ids_of(line.at("greedy_ids"));
  const auto& margins = line.at("greedy_margin").as_array();
  std::vector<float> last(*logits + (ids.size() - 1) * static_cast<size_t>(vocab),
                          *logits + ids.size() * vocab);
  for (size_t step = 0; step < greedy.size(); ++step) {
    const TokenId got = argmax(last.data(), vocab);
    if (got != greedy[step]) {
      const double margin = margins[step].to_number<double>();
      ASSERT_LE(margin, tolerance * stddev(last.data(), last.size()))
          << "prompt '" << prompt << "' greedy step " << step << ": got " << got << ", want " << greedy[step];
      return;  // a near tie: the sequences may part here
    }
    auto next = ctx.eval(std::span<const TokenId>(&got, 1), false);
    ASSERT_TRUE(next.ok()) << next.error();
    std::copy(*next, *next + vocab, last.begin());
  }
}

TEST_P(GoldenTest, MatchesLlamaCpp) {
  const GoldenCase& c = std::get<0>(GetParam());
  auto model = Model::load(test::shared_path(c.model));
  ASSERT_TRUE(model.ok()) << model.error();
  ThreadPool pool(2);
  ContextOptions options;
  options.n_ctx = 512;
  options.n_batch = 64;  // several batches for the long stories prompt
  auto ctx = Context::create(**model, options, pool);
  ASSERT_TRUE(ctx.ok()) << ctx.error();
  for (const auto& line : test::read_jsonl(test::shared_path(c.golden))) {
    check_line(**model, **ctx, line.as_object(), c.tolerance);
    if (HasFatalFailure()) return;
  }
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<GoldenCase, SimdLevel>>& info) {
  std::string name = std::get<0>(info.param).golden.substr(7);
  name = name.substr(0, name.find('.'));
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name + "_" + std::string(simd_name(std::get<1>(info.param)));
}

std::vector<SimdLevel> simd_levels() {
  std::vector<SimdLevel> levels = {SimdLevel::kScalar};
  if (detect_simd() >= SimdLevel::kAvx2) levels.push_back(SimdLevel::kAvx2);
  if (detect_simd() >= SimdLevel::kAvx512Vnni) levels.push_back(SimdLevel::kAvx512Vnni);
  return levels;
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenTest,
                         ::testing::Combine(::testing::ValuesIn(all_cases()),
                                            ::testing::ValuesIn(simd_levels())),
                         case_name);

// Greedy text of the real model through the whole stack, as `genstack run` prints it.
TEST(GoldenCli, StoriesGreedyText) {
  const auto lines = test::read_jsonl(test::shared_path("golden/stories260K.greedy.jsonl"));
  const auto& first = lines.at(0).as_object();
  std::string out, err;
  const int code = test::run_genstack(
      "run " + test::shared_path("models/stories260K.gguf") + " 'Once upon a time' -n 64 --temp 0", &out,
      &err);
  ASSERT_EQ(code, 0) << err;
  EXPECT_EQ(out, std::string(first.at("greedy_text").as_string()) + "\n");
}

}  // namespace
}  // namespace gs
