// Block layouts of the quantized formats (bit-exact with GGUF files written
// by llama.cpp) and row-wise conversion to and from f32.
#pragma once

#include <cstdint>

#include "tensor/types.h"

namespace gs {

#pragma pack(push, 1)
struct BlockQ4_0 {  // x = (q - 8) * d
  fp16_t d;
  uint8_t qs[kQK / 2];  // element j in low nibble of qs[j], j+16 in high nibble
};
struct BlockQ4_1 {  // x = q * d + m
  fp16_t d, m;
  uint8_t qs[kQK / 2];
};
struct BlockQ5_0 {  // x = (q - 16) * d, q = nibble | (bit of qh) << 4
  fp16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {  // x = q * d + m
  fp16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ8_0 {  // x = q * d
  fp16_t d;
  int8_t qs[kQK];
};
struct BlockQ8_1 {  // activations for Q4_1/Q5_1: s = d * sum(qs)
  fp16_t d, s;
  int8_t qs[kQK];
};
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];  // 4-bit scale | 4-bit min per 16 elements
  uint8_t qs[kQK_K / 4];
  fp16_t d, dmin;
};
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];  // 16 6-bit scales
  fp16_t d;
};
struct BlockQ4_K {
  fp16_t d, dmin;
  uint8_t scales[12];  // 8 6-bit scales and 8 6-bit mins
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
  fp16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  fp16_t d;
};
struct BlockQ8_K {  // activations for the K formats
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];  // sum of each 16 qs
};
#pragma pack(pop)

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// Dequantizes n elements (a multiple of the block size) of any supported type
// (including F32, F16, BF16) to f32.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

// Quantizes n elements of f32 to `type` (weights). For Q8_0, Q4_0, Q4_1, Q5_0
// and Q5_1 the bytes equal llama.cpp's reference quantizer; for K types the
// result minimises reconstruction error about as well as llama.cpp's.
// `type` may also be F32, F16 or BF16. Returns false for unsupported types.
bool quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

// Activation quantization used by the dot-product kernels (fast paths).
void quantize_row_q8_0(const float* src, BlockQ8_0* dst, int64_t n);
void quantize_row_q8_1(const float* src, BlockQ8_1* dst, int64_t n);
void quantize_row_q8_K(const float* src, BlockQ8_K* dst, int64_t n);

// 6-bit scale/min unpacking shared by Q4_K and Q5_K: j in [0, 8).
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

}  // namespace gs
