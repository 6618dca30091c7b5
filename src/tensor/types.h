// Tensor element types as numbered in GGUF (ggml's type ids), their block
// geometry, and scalar half-precision conversions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace gs {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};

struct TypeTraits {
  GgmlType type;
  std::string_view name;  // as llama.cpp prints it: "q4_K", "f16", ...
  int64_t block_size;     // elements per block
  size_t block_bytes;     // bytes per block
  bool is_quantized;
};

// Traits of a raw GGUF type id; nullopt for ids we do not know or support.
std::optional<TypeTraits> type_traits(uint32_t raw_type);
const TypeTraits& traits(GgmlType type);
// Parses "q4_0", "Q4_K", "f16", ... (case-insensitive).
std::optional<GgmlType> parse_type_name(std::string_view name);

// Bytes of `n` elements of `type`; n must be a multiple of the block size.
inline size_t row_bytes(GgmlType type, int64_t n) {
  const TypeTraits& t = traits(type);
  return static_cast<size_t>(n / t.block_size) * t.block_bytes;
}

constexpr int64_t kQK = 32;    // block size of the 32-element formats
constexpr int64_t kQK_K = 256;  // super-block size of the K formats

// ---- half precision ----------------------------------------------------
using fp16_t = uint16_t;
using bf16_t = uint16_t;

float fp16_to_fp32(fp16_t h);
fp16_t fp32_to_fp16(float f);  // round to nearest even, like F16C's _cvtss_sh

inline float bf16_to_fp32(bf16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
bf16_t fp32_to_bf16(float f);  // round to nearest even; NaN stays NaN

}  // namespace gs
