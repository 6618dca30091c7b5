// Element formats: half-precision conversions against reference formulas,
// quantize/dequantize round trips, and dequantization of llama.cpp-made
// files against their f32 originals (which pins down every block layout).
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tensor/quants.h"
#include "tensor/types.h"
#include "test_util.h"

namespace gs {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// ---- fp16 ------------------------------------------------------------------

// IEEE binary16 by its definition; exponent 31 (inf/NaN) excluded.
double fp16_formula(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  const double magnitude =
      exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  return sign ? -magnitude : magnitude;
}

TEST(Fp16, ToFp32MatchesFormulaForEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<fp16_t>(h));
    const int exponent = (h >> 10) & 0x1f;
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << h;
    if (exponent == 0x1f && (h & 0x3ff)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
    } else if (exponent == 0x1f) {
      ASSERT_TRUE(std::isinf(f)) << std::hex << h;
    } else {
      ASSERT_EQ(static_cast<double>(f), fp16_formula(static_cast<uint16_t>(h))) << std::hex << h;
    }
  }
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads: next test
    ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(static_cast<fp16_t>(h))), h) << std::hex << h;
  }
}

// Where a positive float stops rounding to half h and starts rounding to
// h+1: halfway between them (the tie itself goes to the even mantissa).
// Past 65504 the next "value" would be 65536, so 65520 overflows to inf.
double midpoint_above(uint16_t h) {
  const double hi = h == 0x7bff ? 65536.0 : fp16_formula(static_cast<uint16_t>(h + 1));
  return (fp16_formula(h) + hi) / 2;
}

// Every positive float from 2^-26 up to 2^17, in order: the expected half
// only ever steps up by one, exactly where round-to-nearest-even says.
// Below that range everything is 0, above it inf (checked with a stride).
TEST(Fp16, FromFp32RoundsEveryFloatToNearestEven) {
  const uint32_t first = bits_of(0x1p-26f), last = bits_of(0x1p17f);
  uint16_t expected = 0;
  double mid = midpoint_above(0);
  for (uint32_t u = first; u <= last; ++u) {
    const float f = float_of(u);
    while (expected < 0x7c00 && (f > mid || (f == mid && (expected & 1)))) {
      ++expected;
      if (expected < 0x7c00) mid = midpoint_above(expected);
    }
    if (fp32_to_fp16(f) != expected) FAIL() << f << " gave " << fp32_to_fp16(f) << " not " << expected;
  }
  for (uint32_t u = 0; u < first; u += 997) ASSERT_EQ(fp32_to_fp16(float_of(u)), 0);
  for (uint32_t u = last; u <= 0x7f800000; u += 997) ASSERT_EQ(fp32_to_fp16(float_of(u)), 0x7c00);
  ASSERT_EQ(fp32_to_fp16(INFINITY), 0x7c00);
}

TEST(Fp16, FromFp32KeepsSignAndNaN) {
  for (uint32_t u = 0; u < 0x7f800000; u += 4099) {
    ASSERT_EQ(fp32_to_fp16(-float_of(u)), 0x8000 | fp32_to_fp16(float_of(u))) << u;
  }
  for (uint32_t u = 0x7f800001; u <= 0x7fffffff; u += 65521) {
    const fp16_t h = fp32_to_fp16(float_of(u)), hn = fp32_to_fp16(float_of(u | 0x80000000));
    ASSERT_TRUE(std::isnan(fp16_to_fp32(h))) << u;
    ASSERT_TRUE(std::isnan(fp16_to_fp32(hn)) && (hn & 0x8000)) << u;
  }
}

// ---- bf16 ------------------------------------------------------------------

// Round-to-nearest-even onto the bf16 grid, decided in double.
uint16_t bf16_reference(float f) {
  const uint32_t u = bits_of(f);
  if (std::isinf(f)) return static_cast<uint16_t>((u >> 16) & 0xff80);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  const uint16_t h = static_cast<uint16_t>((u & 0x7fffffff) >> 16);
  const double a = std::fabs(static_cast<double>(f));
  const double lo = bf16_to_fp32(h);
  const double hi =
      h == 0x7f7f ? std::ldexp(1.0, 128) : static_cast<double>(bf16_to_fp32(static_cast<uint16_t>(h + 1)));
  const bool up = a - lo > hi - a || (a - lo == hi - a && (h & 1));
  return static_cast<uint16_t>(sign | (up ? h + 1 : h));
}

TEST(Bf16, ToFp32IsTheHighHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    ASSERT_EQ(bits_of(bf16_to_fp32(static_cast<bf16_t>(h))), h << 16);
  }
}

// Around every finite bf16 value: the value itself, the floats next to it,
// and the midpoint to the next value with its neighbours; then a stride over
// all floats.
TEST(Bf16, FromFp32RoundsToNearestEven) {
  for (uint32_t h = 0; h < 0x7f80; ++h) {
    for (uint32_t low : {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu}) {
      for (uint32_t sign : {0u, 0x80000000u}) {
        const float f = float_of(sign | (h << 16) | low);
        ASSERT_EQ(fp32_to_bf16(f), bf16_reference(f)) << std::hex << bits_of(f);
      }
    }
  }
  for (uint64_t u = 0; u <= 0xffffffffu; u += 4099) {
    const float f = float_of(static_cast<uint32_t>(u));
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(f)))) << u;
    } else {
      ASSERT_EQ(fp32_to_bf16(f), bf16_reference(f)) << u;
    }
  }
  ASSERT_EQ(fp32_to_bf16(INFINITY), 0x7f80);
  ASSERT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(float_of(0x7f800001)))));  // NaN must not become inf
}

// ---- type table --------------------------------------------------------------

TEST(Types, TraitsAndNames) {
  EXPECT_EQ(traits(GgmlType::Q4_K).name, "q4_K");
  EXPECT_EQ(traits(GgmlType::Q6_K).block_bytes, sizeof(BlockQ6_K));
  EXPECT_EQ(traits(GgmlType::Q8_0).block_size, 32);
  EXPECT_EQ(traits(GgmlType::BF16).block_bytes, 2u);
  EXPECT_EQ(parse_type_name("q4_k"), GgmlType::Q4_K);
  EXPECT_EQ(parse_type_name("Q4_K"), GgmlType::Q4_K);
  EXPECT_EQ(parse_type_name("BF16"), GgmlType::BF16);
  EXPECT_EQ(parse_type_name("q4_K_M"), std::nullopt);
  EXPECT_EQ(parse_type_name(""), std::nullopt);
  EXPECT_FALSE(type_traits(4).has_value());  // ids 4 and 5 were retired Q4_2/Q4_3
  EXPECT_EQ(type_traits(30)->type, GgmlType::BF16);
  EXPECT_EQ(row_bytes(GgmlType::Q4_K, 512), 288u);
}

// ---- round trips ---------------------------------------------------------------

// Largest acceptable relative RMSE (rmse / rms of the data) per type, for
// Gaussian data or random model weights; about 1.25x what the formats reach.
double tolerance(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return 0.0;
    case GgmlType::F16:
      return 3e-4;
    case GgmlType::BF16:
      return 2.5e-3;
    case GgmlType::Q8_0:
      return 0.007;
    case GgmlType::Q4_0:
      return 0.11;
    case GgmlType::Q4_1:
      return 0.10;
    case GgmlType::Q5_0:
      return 0.055;
    case GgmlType::Q5_1:
      return 0.05;
    case GgmlType::Q2_K:
      return 0.33;
    case GgmlType::Q3_K:
      return 0.18;
    case GgmlType::Q4_K:
      return 0.088;
    case GgmlType::Q5_K:
      return 0.044;
    case GgmlType::Q6_K:
      return 0.022;
    default:
      return 0.0;
  }
}

double relative_rmse(const std::vector<float>& got, const float* want) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    err += (static_cast<double>(got[i]) - want[i]) * (got[i] - want[i]);
    norm += static_cast<double>(want[i]) * want[i];
  }
  return norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
}

std::vector<float> round_trip(GgmlType type, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> packed(row_bytes(type, n));
  EXPECT_TRUE(quantize_row(type, x.data(), packed.data(), n));
  std::vector<float> y(x.size());
  dequantize_row(type, packed.data(), y.data(), n);
  return y;
}

constexpr GgmlType kWeightTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                                     GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                     GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                                     GgmlType::Q6_K};

TEST(Quants, RoundTripErrorOnGaussianData) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> x(16 * 256);
  for (float& v : x) v = normal(rng);
  for (GgmlType type : kWeightTypes) {
    const double err = relative_rmse(round_trip(type, x), x.data());
    EXPECT_LE(err, tolerance(type)) << traits(type).name;
  }
}

// Shifted data (all positive) exercises the mins of the affine formats and
// the sign handling of the symmetric ones.
TEST(Quants, RoundTripErrorOnShiftedData) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
  std::vector<float> x(8 * 256);
  for (float& v : x) v = uniform(rng);
  for (GgmlType type : kWeightTypes) {
    EXPECT_LE(relative_rmse(round_trip(type, x), x.data()), tolerance(type)) << traits(type).name;
  }
}

TEST(Quants, ZerosAndConstantsAreExact) {
  for (GgmlType type : kWeightTypes) {
    const std::vector<float> zeros(512, 0.0f);
    EXPECT_EQ(round_trip(type, zeros), zeros) << traits(type).name;
  }
  // A constant negative block is exactly -min for the affine K formats, and
  // the extreme level times a power-of-two scale for the others.
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q5_0, GgmlType::Q2_K, GgmlType::Q3_K,
                        GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const std::vector<float> constant(512, -0.5f);
    EXPECT_LE(relative_rmse(round_trip(type, constant), constant.data()), 1e-3) << traits(type).name;
  }
}

// One large outlier per super-block plus tiny values: scales must neither
// overflow nor let the small sub-blocks collapse to garbage.
TEST(Quants, OutliersAndTinyValuesStayFinite) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1e-6f);
  std::vector<float> x(4 * 256);
  for (float& v : x) v = normal(rng);
  for (size_t i = 0; i < x.size(); i += 256) x[i + 17] = 300.0f;
  for (GgmlType type : kWeightTypes) {
    const std::vector<float> y = round_trip(type, x);
    for (size_t i = 0; i < y.size(); ++i) ASSERT_TRUE(std::isfinite(y[i])) << traits(type).name << " " << i;
    EXPECT_LE(relative_rmse(y, x.data()), tolerance(type)) << traits(type).name;
  }
}

TEST(Quants, ActivationFormatsAreNotWeightTargets) {
  std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> out(sizeof(BlockQ8_K));
  EXPECT_FALSE(quantize_row(GgmlType::Q8_K, x.data(), out.data(), 256));
}

TEST(Quants, Q8KDequantizesAsScaleTimesQuant) {
  BlockQ8_K block{};
  block.d = 0.25f;
  for (int i = 0; i < kQK_K; ++i) block.qs[i] = static_cast<int8_t>(i - 128);
  std::vector<float> y(kQK_K);
  dequantize_row(GgmlType::Q8_K, &block, y.data(), kQK_K);
  for (int i = 0; i < kQK_K; ++i) ASSERT_EQ(y[i], 0.25f * static_cast<float>(i - 128));
}

// ---- llama.cpp's files --------------------------------------------------------

std::vector<float> tensor_as_f32(const gguf::TensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.element_count()));
  dequantize_row(t.type, t.data, out.data(), t.element_count());
  return out;
}

struct FileCase {
  std::string model, suffix;
};

class LlamaCppFiles : public ::testing::TestWithParam<FileCase> {};

// Every tensor of a llama.cpp-quantized file, dequantized, is close to the
// f32 original. A wrong block layout gives errors near 100%.
TEST_P(LlamaCppFiles, DequantizeCloseToF32Original) {
  const std::string dir = "models/synthetic/" + GetParam().model;
  auto original = gguf::File::open(test::shared_path(dir + "-f32.gguf"));
  auto quantized = gguf::File::open(test::shared_path(dir + "-" + GetParam().suffix + ".gguf"));
  ASSERT_TRUE(original.ok()) << original.error();
  ASSERT_TRUE(quantized.ok()) << quantized.error();
  for (const gguf::TensorInfo& t : (*quantized)->tensors()) {
    const gguf::TensorInfo* f32 = (*original)->tensor(t.name);
    ASSERT_NE(f32, nullptr) << t.name;
    ASSERT_EQ(f32->dims, t.dims) << t.name;
    const std::vector<float> want = tensor_as_f32(*f32), got = tensor_as_f32(t);
    EXPECT_LE(relative_rmse(got, want.data()), tolerance(t.type)) << t.name << " " << traits(t.type).name;
    if (t.type == GgmlType::F16 || t.type == GgmlType::BF16) {
      // Conversions are exact: our rounding of the original gives the file's bits.
      std::vector<float> ours = round_trip(t.type, want);
      EXPECT_EQ(ours, got) << t.name;
    }
  }
}

std::vector<FileCase> all_files() {
  std::vector<FileCase> cases;
  for (const char* model : {"tiny-llama", "tiny-qwen2"}) {
    for (const char* suffix : {"f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k",
                               "q5_k", "q6_k", "q4_k_m-mix"}) {
      cases.push_back({model, suffix});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Synthetic, LlamaCppFiles, ::testing::ValuesIn(all_files()),
                         [](const ::testing::TestParamInfo<FileCase>& info) {
                           std::string name = info.param.model + "_" + info.param.suffix;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

}  // namespace
}  // namespace gs
