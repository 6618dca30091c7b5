#include "tensor/types.h"

#include <array>
#include <cassert>
#include <cctype>

namespace gs {
namespace {

constexpr std::array<TypeTraits, 15> kTraits = {{
    {GgmlType::F32, "f32", 1, 4, false},
    {GgmlType::F16, "f16", 1, 2, false},
    {GgmlType::BF16, "bf16", 1, 2, false},
    {GgmlType::Q4_0, "q4_0", kQK, 18, true},
    {GgmlType::Q4_1, "q4_1", kQK, 20, true},
    {GgmlType::Q5_0, "q5_0", kQK, 22, true},
    {GgmlType::Q5_1, "q5_1", kQK, 24, true},
    {GgmlType::Q8_0, "q8_0", kQK, 34, true},
    {GgmlType::Q8_1, "q8_1", kQK, 36, true},
    {GgmlType::Q2_K, "q2_K", kQK_K, 84, true},
    {GgmlType::Q3_K, "q3_K", kQK_K, 110, true},
    {GgmlType::Q4_K, "q4_K", kQK_K, 144, true},
    {GgmlType::Q5_K, "q5_K", kQK_K, 176, true},
    {GgmlType::Q6_K, "q6_K", kQK_K, 210, true},
    {GgmlType::Q8_K, "q8_K", kQK_K, 292, true},
}};

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace

std::optional<TypeTraits> type_traits(uint32_t raw_type) {
  for (const TypeTraits& t : kTraits) {
    if (static_cast<uint32_t>(t.type) == raw_type) return t;
  }
  return std::nullopt;
}

const TypeTraits& traits(GgmlType type) {
  for (const TypeTraits& t : kTraits) {
    if (t.type == type) return t;
  }
  assert(false && "traits() of an unknown GgmlType");
  return kTraits[0];
}

std::optional<GgmlType> parse_type_name(std::string_view name) {
  for (const TypeTraits& t : kTraits) {
    if (equals_ignore_case(t.name, name)) return t.type;
  }
  return std::nullopt;
}

// Computed rather than looked up: a handful of integer operations is as fast
// as a 256 KiB table that competes with the weights for cache.
float fp16_to_fp32(fp16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0x1f) return bits_float(sign | 0x7f800000 | (mantissa << 13));  // inf, NaN
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24 is exact in f32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return bits_float(sign | float_bits(magnitude));
  }
  return bits_float(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

fp16_t fp32_to_fp16(float f) {
  const uint32_t x = float_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  uint32_t magnitude = x & 0x7fffffff;

  if (magnitude > 0x7f800000) {
    // NaN: keep the top payload bits and force the quiet bit so it stays NaN.
    return static_cast<fp16_t>(sign | 0x7e00 | ((magnitude >> 13) & 0x3ff));
  }
  // 65520 = 65504 (largest half) + half an ulp; the tie rounds to even = inf.
  if (magnitude >= 0x477ff000) return static_cast<fp16_t>(sign | 0x7c00);
  if (magnitude < 0x38800000) {
    // Below 2^-14 the result is subnormal. Adding 0.5 makes the f32 ulp equal
    // to the f16 subnormal step (2^-24), so the FPU's own round-to-nearest-even
    // does the rounding; the low mantissa bits are then the f16 mantissa.
    const float shifted = bits_float(magnitude) + 0.5f;
    return static_cast<fp16_t>(sign | (float_bits(shifted) - float_bits(0.5f)));
  }
  // Normal: rebias the exponent and round the 13 dropped mantissa bits to
  // nearest even; a carry out of the mantissa correctly bumps the exponent.
  const uint32_t odd = (magnitude >> 13) & 1;
  magnitude += (static_cast<uint32_t>(15 - 127) << 23) + 0xfff + odd;
  return static_cast<fp16_t>(sign | (magnitude >> 13));
}

bf16_t fp32_to_bf16(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<bf16_t>((x >> 16) | 0x40);  // quiet NaN
  const uint32_t odd = (x >> 16) & 1;
  return static_cast<bf16_t>((x + 0x7fff + odd) >> 16);
}

}  // namespace gs
