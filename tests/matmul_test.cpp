// matmul against a double-precision reference built from dequantize_row, for
// every weight type at every SIMD level this CPU has; the activation
// quantizers against a plain transcription of their definition.
#include "tensor/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "tensor/cpu.h"
#include "tensor/quants.h"
#include "tensor/repack.h"
#include "tensor/types.h"

namespace gs {
namespace {

const GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                                 GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                 GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                                 GgmlType::Q6_K};

std::vector<SimdLevel> supported_levels() {
  std::vector<SimdLevel> levels;
  for (int l = 0; l <= static_cast<int>(detect_simd()); ++l) levels.push_back(static_cast<SimdLevel>(l));
  return levels;
}

// Restores the default SIMD level when a test ends, pass or fail.
struct SimdGuard {
  explicit SimdGuard(SimdLevel level) { force_simd(level); }
  ~SimdGuard() { force_simd(std::nullopt); }
};

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

struct Weights {
  GgmlType type;
  int64_t rows, cols;
  std::vector<uint8_t> data;
  std::vector<float> dequant;  // what the kernels should be computing with
  WeightView view() const { return {type, rows, cols, data.data()}; }
};

Weights make_weights(GgmlType type, int64_t rows, int64_t cols, uint32_t seed) {
  Weights w{type, rows, cols, {}, {}};
  const std::vector<float> f = random_floats(static_cast<size_t>(rows * cols), seed);
  const size_t rb = row_bytes(type, cols);
  w.data.resize(rb * rows);
  w.dequant.resize(f.size());
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_TRUE(quantize_row(type, f.data() + r * cols, w.data.data() + r * rb, cols));
    dequantize_row(type, w.data.data() + r * rb, w.dequant.data() + r * cols, cols);
  }
  return w;
}

// y_ref[t][r] = sum_c dequant[r][c] * x[t][c] in double.
std::vector<double> reference(const Weights& w, const std::vector<float>& x, int64_t n_tokens) {
  std::vector<double> y(static_cast<size_t>(n_tokens * w.rows));
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < w.rows; ++r) {
      double sum = 0.0;
      for (int64_t c = 0; c < w.cols; ++c) sum += double{w.dequant[r * w.cols + c]} * x[t * w.cols + c];
      y[t * w.rows + r] = sum;
    }
  }
  return y;
}

double rms(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x * x;
  return std::sqrt(s / static_cast<double>(v.size()));
}

// Relative error allowed against the exact product: the activations are
// rounded to 8 bits (about 0.4% of each block's largest value per element,
// averaging out over a row), the float formats only by f32 arithmetic.
double tolerance(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
    case GgmlType::F16:
    case GgmlType::BF16:
      return 1e-5;
    default:
      return 1.5e-2;
  }
}

std::vector<float> run_matmul(const Weights& w, const std::vector<float>& x, int64_t n_tokens,
                              ThreadPool& pool, MatmulScratch& scratch) {
  std::vector<float> y(static_cast<size_t>(n_tokens * w.rows), std::nanf(""));
  matmul(w.view(), x.data(), n_tokens, y.data(), pool, scratch);
  return y;
}

class MatmulTest : public ::testing::TestWithParam<GgmlType> {};

// Every level against the reference, over odd shapes (rows not a multiple
// of any tile, an odd number of 32-blocks per row), 1..9 tokens and 1..3
// threads; each level also against the scalar kernels.
TEST_P(MatmulTest, MatchesReferenceAtEveryLevel) {
  const GgmlType type = GetParam();
  const bool k_type = traits(type).block_size == kQK_K;
  struct Shape {
    int64_t rows, cols;
  };
  // The last shape is big enough for several chunks of rows per thread.
  const std::vector<Shape> shapes =
      k_type ? std::vector<Shape>{{37, 512}, {8, 256}, {5, 768}, {133, 1024}}
             : std::vector<Shape>{{37, 96}, {8, 64}, {5, 1056}, {3, 32}, {301, 1024}};
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (int n = 1; n <= 3; ++n) pools.push_back(std::make_unique<ThreadPool>(n));
  MatmulScratch scratch;  // shared by every call: grows as needed

  uint32_t seed = 1;
  for (const Shape& s : shapes) {
    const Weights w = make_weights(type, s.rows, s.cols, seed++);
    for (int64_t n_tokens = 1; n_tokens <= 9; ++n_tokens) {
      const std::vector<float> x = random_floats(static_cast<size_t>(n_tokens * s.cols), seed++);
      const std::vector<double> ref = reference(w, x, n_tokens);
      const double ref_rms = rms(ref);
      std::vector<float> scalar;
      for (SimdLevel level : supported_levels()) {
        SimdGuard guard(level);
        std::vector<float> first;  // this level's result with one thread
        for (auto& pool : pools) {
          SCOPED_TRACE(testing::Message()
                       << traits(type).name << " " << simd_name(level) << " " << s.rows << "x" << s.cols
                       << " tokens=" << n_tokens << " threads=" << pool->size());
          const std::vector<float> y = run_matmul(w, x, n_tokens, *pool, scratch);
          double err = 0.0;
          for (size_t i = 0; i < y.size(); ++i) err += (y[i] - ref[i]) * (y[i] - ref[i]);
          err = std::sqrt(err / static_cast<double>(y.size()));
          EXPECT_LT(err, tolerance(type) * ref_rms);
          // Threads split the rows at whole tiles, so every output is
          // computed the same way whatever their number.
          if (first.empty()) first = y;
          EXPECT_EQ(y, first) << "results depend on the thread count";
          if (level == SimdLevel::kScalar) {
            if (scalar.empty()) scalar = y;
          } else {
            // Same integer sums; only the order of float additions differs.
            for (size_t i = 0; i < y.size(); ++i)
              ASSERT_NEAR(y[i], scalar[i], 2e-5 * ref_rms) << "output " << i;
          }
        }
      }
    }
  }
}

// The shapes the models use, one token and a prompt, at the default level.
TEST_P(MatmulTest, ModelShapes) {
  const GgmlType type = GetParam();
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (int64_t cols : {576, 2048}) {
    if (cols % traits(type).block_size != 0) continue;
    const Weights w = make_weights(type, 96, cols, 7);
    for (int64_t n_tokens : {1, 17}) {
      const std::vector<float> x = random_floats(static_cast<size_t>(n_tokens * cols), 8);
      const std::vector<double> ref = reference(w, x, n_tokens);
      const std::vector<float> y = run_matmul(w, x, n_tokens, pool, scratch);
      double err = 0.0;
      for (size_t i = 0; i < y.size(); ++i) err += (y[i] - ref[i]) * (y[i] - ref[i]);
      EXPECT_LT(std::sqrt(err / static_cast<double>(y.size())), tolerance(type) * rms(ref))
          << cols << " cols, " << n_tokens << " tokens";
    }
  }
}

// A long prompt: the tokens are processed in chunks whose activations fit
// in L2 (about 1 MiB each), several chunks here.
TEST(Matmul, ManyTokensSpanActivationChunks) {
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (GgmlType type : {GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_K}) {
    const Weights w = make_weights(type, 9, 4096, 5);
    const int64_t n_tokens = 301;
    const std::vector<float> x = random_floats(static_cast<size_t>(n_tokens * w.cols), 6);
    const std::vector<double> ref = reference(w, x, n_tokens);
    const std::vector<float> y = run_matmul(w, x, n_tokens, pool, scratch);
    double err = 0.0;
    for (size_t i = 0; i < y.size(); ++i) err += (y[i] - ref[i]) * (y[i] - ref[i]);
    EXPECT_LT(std::sqrt(err / static_cast<double>(y.size())), tolerance(type) * rms(ref))
        << traits(type).name;
  }
}

TEST_P(MatmulTest, GetRowDequantizes) {
  const GgmlType type = GetParam();
  const int64_t cols = traits(type).block_size == kQK_K ? 512 : 96;
  const Weights w = make_weights(type, 4, cols, 3);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    get_row(w.view(), r, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), w.dequant.data() + r * cols, cols * sizeof(float))) << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulTest, ::testing::ValuesIn(kWeightTypes),
                         [](const auto& info) { return std::string(traits(info.param).name); });

// Q8_0 and Q4_0 repacked four rows at a time (tensor/repack.h), at every
// level: the same products as GGUF's layout, whatever the number of tokens
// and threads, and the same rows back from get_row.
TEST(Matmul, RepackedMatchesRowLayoutAtEveryLevel) {
  const std::pair<GgmlType, WeightLayout> layouts[] = {{GgmlType::Q8_0, WeightLayout::kQ8_0x4},
                                                       {GgmlType::Q4_0, WeightLayout::kQ4_0x4}};
  struct Shape {
    int64_t rows, cols;
  };
  // 12 rows: decode's two-group tiles end with a single group.
  const Shape shapes[] = {{36, 96}, {8, 64}, {4, 1056}, {12, 32}, {300, 1024}};
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (int n = 1; n <= 3; ++n) pools.push_back(std::make_unique<ThreadPool>(n));
  MatmulScratch scratch;
  uint32_t seed = 100;
  for (const auto& [type, layout] : layouts) {
    for (const Shape& s : shapes) {
      const Weights w = make_weights(type, s.rows, s.cols, seed++);
      std::vector<uint8_t> packed_data(w.data.size());
      const WeightView packed = repack(w.view(), layout, packed_data.data());
      ASSERT_EQ(packed.layout, layout);
      for (int64_t n_tokens = 1; n_tokens <= 9; ++n_tokens) {
        const std::vector<float> x = random_floats(static_cast<size_t>(n_tokens * s.cols), seed++);
        const std::vector<double> ref = reference(w, x, n_tokens);
        std::vector<float> rows_scalar;
        {
          SimdGuard guard(SimdLevel::kScalar);
          rows_scalar = run_matmul(w, x, n_tokens, *pools[0], scratch);
        }
        for (SimdLevel level : supported_levels()) {
          SimdGuard guard(level);
          std::vector<float> first;
          for (auto& pool : pools) {
            SCOPED_TRACE(testing::Message()
                         << traits(type).name << " " << simd_name(level) << " " << s.rows << "x" << s.cols
                         << " tokens=" << n_tokens << " threads=" << pool->size());
            std::vector<float> y(static_cast<size_t>(n_tokens * s.rows), std::nanf(""));
            matmul(packed, x.data(), n_tokens, y.data(), *pool, scratch);
            if (first.empty()) first = y;
            EXPECT_EQ(y, first) << "results depend on the thread count";
            // The same integer sums as GGUF's layout; only float order differs.
            for (size_t i = 0; i < y.size(); ++i)
              ASSERT_NEAR(y[i], rows_scalar[i], 2e-5 * rms(ref)) << "output " << i;
          }
        }
      }
      std::vector<float> want(static_cast<size_t>(s.cols)), got(static_cast<size_t>(s.cols));
      for (int64_t r = 0; r < s.rows; ++r) {
        get_row(w.view(), r, want.data());
        get_row(packed, r, got.data());
        ASSERT_EQ(got, want) << "row " << r;
      }
    }
  }
}

// Only AVX2 gains from the interleaved layouts, only for Q8_0 and Q4_0 with whole
// groups of four rows, and GENSTACK_REPACK=0 turns it off.
TEST(Matmul, PreferredLayout) {
  const uint8_t data[1] = {};
  const WeightView q8{GgmlType::Q8_0, 8, 64, data};
  WeightView odd = q8, q4 = q8, q4k = q8;
  odd.rows = 6;
  q4.type = GgmlType::Q4_0;
  q4k.type = GgmlType::Q4_K;
  {
    SimdGuard guard(SimdLevel::kScalar);
    EXPECT_EQ(preferred_layout(q8), WeightLayout::kRows);
  }
  if (detect_simd() < SimdLevel::kAvx2) GTEST_SKIP() << "no AVX2";
  SimdGuard guard(SimdLevel::kAvx2);
  EXPECT_EQ(preferred_layout(q8), WeightLayout::kQ8_0x4);
  EXPECT_EQ(preferred_layout(odd), WeightLayout::kRows);
  EXPECT_EQ(preferred_layout(q4), WeightLayout::kQ4_0x4);
  EXPECT_EQ(preferred_layout(q4k), WeightLayout::kRows);
  setenv("GENSTACK_REPACK", "0", 1);
  EXPECT_EQ(preferred_layout(q8), WeightLayout::kRows);
  unsetenv("GENSTACK_REPACK");
}

// Several matrices over the same activations in one call: each output
// exactly what its own call gives, whatever the mix of types (one shared
// quantization when the dot types agree, separate calls when not), the
// number of matrices or threads.
TEST(Matmul, SharedInputMatchesSeparateCalls) {
  const std::vector<std::vector<GgmlType>> mixes = {
      {GgmlType::Q8_0, GgmlType::Q8_0, GgmlType::Q8_0},
      {GgmlType::Q4_K, GgmlType::Q6_K},
      {GgmlType::Q8_0, GgmlType::Q4_1},
      {GgmlType::F16, GgmlType::F32, GgmlType::F16, GgmlType::F16, GgmlType::F32}};
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (int n = 1; n <= 3; ++n) pools.push_back(std::make_unique<ThreadPool>(n));
  MatmulScratch scratch;
  uint32_t seed = 300;
  for (const auto& mix : mixes) {
    std::vector<Weights> ws;
    for (size_t m = 0; m < mix.size(); ++m) ws.push_back(make_weights(mix[m], 40 + 12 * m, 512, seed++));
    std::vector<WeightView> views;
    for (const Weights& w : ws) views.push_back(w.view());
    for (int64_t n_tokens : {1, 5}) {
      const std::vector<float> x = random_floats(static_cast<size_t>(n_tokens * 512), seed++);
      for (auto& pool : pools) {
        std::vector<std::vector<float>> ys;
        std::vector<MatmulOutput> outs;
        for (const WeightView& v : views)
          ys.emplace_back(static_cast<size_t>(n_tokens * v.rows), std::nanf(""));
        for (size_t m = 0; m < views.size(); ++m) outs.push_back({&views[m], ys[m].data()});
        matmul(outs, x.data(), n_tokens, *pool, scratch);
        for (size_t m = 0; m < ws.size(); ++m) {
          EXPECT_EQ(ys[m], run_matmul(ws[m], x, n_tokens, *pool, scratch))
              << "matrix " << m << " of " << ws.size() << ", " << n_tokens << " tokens, " << pool->size()
              << " threads";
        }
      }
    }
  }
}

TEST(Cpu, LevelsAndNames) {
  EXPECT_EQ(simd_name(SimdLevel::kScalar), "scalar");
  EXPECT_EQ(simd_name(SimdLevel::kAvx2), "avx2");
  EXPECT_EQ(simd_name(SimdLevel::kAvx512Vnni), "avx512");
  force_simd(SimdLevel::kScalar);
  EXPECT_EQ(active_simd(), SimdLevel::kScalar);
  force_simd(SimdLevel::kAvx512Vnni);  // never above what the CPU has
  EXPECT_EQ(active_simd(), detect_simd());
  force_simd(std::nullopt);
  EXPECT_LE(static_cast<int>(active_simd()), static_cast<int>(detect_simd()));
}

// ---- activation quantizers --------------------------------------------------------

// Inputs with the cases that trip SIMD versions: exact rounding ties (block
// max 127 makes the scale 1), all-zero blocks, and a largest magnitude that
// occurs with both signs (the first one decides the sign of the Q8_K scale).
std::vector<float> quantizer_inputs(int64_t n) {
  std::vector<float> x = random_floats(static_cast<size_t>(n), 11, 3.0f);
  for (int64_t j = 0; j < 32; ++j) x[j] = (j == 0) ? 127.0f : static_cast<float>(j % 9) - 4.5f;
  for (int64_t j = 32; j < 64; ++j) x[j] = 0.0f;
  if (n >= 512) {
    for (int64_t j = 256; j < 512; ++j) x[j] = static_cast<float>(j % 11) * 0.5f - 2.5f;
    x[300] = -127.0f;  // scale 1: iscale * x = x, ties to even
    x[400] = 127.0f;
  }
  if (n >= 768) std::fill(x.begin() + 512, x.begin() + 768, 0.0f);
  return x;
}

TEST(ActivationQuant, Q8_0AndQ8_1MatchDefinition) {
  const int64_t n = 1024;
  const std::vector<float> x = quantizer_inputs(n);
  std::vector<BlockQ8_0> want0(n / kQK);
  std::vector<BlockQ8_1> want1(n / kQK);
  for (int64_t b = 0; b < n / kQK; ++b) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[b * kQK + j]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      const int8_t q = static_cast<int8_t>(std::roundf(x[b * kQK + j] * id));
      want0[b].qs[j] = want1[b].qs[j] = q;
      sum += q;
    }
    want0[b].d = want1[b].d = fp32_to_fp16(d);
    want1[b].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
  for (SimdLevel level : supported_levels()) {
    SimdGuard guard(level);
    std::vector<BlockQ8_0> got0(n / kQK);
    std::vector<BlockQ8_1> got1(n / kQK);
    quantize_row_q8_0(x.data(), got0.data(), n);
    quantize_row_q8_1(x.data(), got1.data(), n);
    EXPECT_EQ(0, std::memcmp(got0.data(), want0.data(), sizeof(BlockQ8_0) * got0.size())) << simd_name(level);
    EXPECT_EQ(0, std::memcmp(got1.data(), want1.data(), sizeof(BlockQ8_1) * got1.size())) << simd_name(level);
  }
}

TEST(ActivationQuant, Q8_KMatchesDefinition) {
  const int64_t n = 1024;
  const std::vector<float> x = quantizer_inputs(n);
  std::vector<BlockQ8_K> want(n / kQK_K);
  std::memset(want.data(), 0, sizeof(BlockQ8_K) * want.size());
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x.data() + b * kQK_K;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(xb[j]) > amax) amax = std::fabs(xb[j]), max = xb[j];
    }
    if (amax == 0.0f) continue;
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      want[b].qs[j] = static_cast<int8_t>(std::min(127, static_cast<int>(std::nearbyint(iscale * xb[j]))));
      want[b].bsums[j / 16] = static_cast<int16_t>(want[b].bsums[j / 16] + want[b].qs[j]);
    }
    want[b].d = 1.0f / iscale;
  }
  EXPECT_GT(want[1].d, 0.0f) << "the first largest element (-127) sets the sign";
  for (SimdLevel level : supported_levels()) {
    SimdGuard guard(level);
    std::vector<BlockQ8_K> got(n / kQK_K);
    quantize_row_q8_K(x.data(), got.data(), n);
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), sizeof(BlockQ8_K) * got.size())) << simd_name(level);
  }
}

}  // namespace
}  // namespace gs
