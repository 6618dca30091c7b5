// The 32-element block formats, and the type dispatch of dequantize_row and
// quantize_row. The quantizers here reproduce llama.cpp's reference ones byte
// for byte (same float operations in the same order, same truncations), so a
// model quantized by either tool is the same file.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "tensor/quants.h"
#include "tensor/quants_k.h"

namespace gs {
namespace {

// ---- dequantization ------------------------------------------------------

void dequantize_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + kQK / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(x[i].qs[j] & 0x0F) * d + m;
      y[j + kQK / 2] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
    }
  }
}

// Fifth bit of element j (0..31) of a Q5 block: bit j of the 32-bit qh.
int q5_high_bit(const uint8_t qh[4], int j) { return ((qh[j / 8] >> (j % 8)) & 1) << 4; }

void dequantize_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = ((x[i].qs[j] & 0x0F) | q5_high_bit(x[i].qh, j)) - 16;
      const int q1 = ((x[i].qs[j] >> 4) | q5_high_bit(x[i].qh, j + kQK / 2)) - 16;
      y[j] = static_cast<float>(q0) * d;
      y[j + kQK / 2] = static_cast<float>(q1) * d;
    }
  }
}

void dequantize_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = (x[i].qs[j] & 0x0F) | q5_high_bit(x[i].qh, j);
      const int q1 = (x[i].qs[j] >> 4) | q5_high_bit(x[i].qh, j + kQK / 2);
      y[j] = static_cast<float>(q0) * d + m;
      y[j + kQK / 2] = static_cast<float>(q1) * d + m;
    }
  }
}

void dequantize_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void dequantize_q8_1(const BlockQ8_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

// ---- quantization (llama.cpp's reference rounding) -----------------------

// llama.cpp's `(int8_t)f` / `(uint8_t)f` casts: truncation toward zero, then
// the low byte, as x86 computes them. Going through int32 gives the same
// result for every in-range value without the undefined behaviour of
// converting an out-of-range float to a narrow type.
int32_t truncate_int(float f) {
  if (!(std::fabs(f) < 2147483520.0f)) return 0;  // NaN or beyond int32
  return static_cast<int32_t>(f);
}
int truncate_int8(float f) { return static_cast<int8_t>(truncate_int(f)); }
uint8_t truncate_uint8(float f) { return static_cast<uint8_t>(truncate_int(f)); }

// The element of largest magnitude, with its sign (the first one on ties).
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// Q4_0 and Q5_0: symmetric, the largest-magnitude element maps to -2^(bits-1)
// exactly, so one extreme is represented without error.
void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x, kQK) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t q0 = static_cast<uint8_t>(std::min(15, truncate_int8(x[j] * id + 8.5f)));
      const uint8_t q1 = static_cast<uint8_t>(std::min(15, truncate_int8(x[j + kQK / 2] * id + 8.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void set_q5_high_bits(uint8_t qh[4], int j, uint8_t q) {
  if (q & 0x10) qh[j / 8] |= static_cast<uint8_t>(1 << (j % 8));
}

void quantize_q5_0(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x, kQK) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    std::memset(y[i].qh, 0, sizeof y[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t q0 = static_cast<uint8_t>(std::min(31, truncate_int8(x[j] * id + 16.5f)));
      const uint8_t q1 = static_cast<uint8_t>(std::min(31, truncate_int8(x[j + kQK / 2] * id + 16.5f)));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      set_q5_high_bits(y[i].qh, j, q0);
      set_q5_high_bits(y[i].qh, j + kQK / 2, q1);
    }
  }
}

// Q4_1 and Q5_1: the block's range [min, max] split into equal steps.
void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min, max;
    min_max(x, kQK, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t q0 = static_cast<uint8_t>(std::min(15, truncate_int8((x[j] - min) * id + 0.5f)));
      const uint8_t q1 =
          static_cast<uint8_t>(std::min(15, truncate_int8((x[j + kQK / 2] - min) * id + 0.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_q5_1(const float* x, BlockQ5_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min, max;
    min_max(x, kQK, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    std::memset(y[i].qh, 0, sizeof y[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      // llama.cpp does not clamp here: (x - min) * id + 0.5 <= 31.5 anyway.
      const uint8_t q0 = truncate_uint8((x[j] - min) * id + 0.5f);
      const uint8_t q1 = truncate_uint8((x[j + kQK / 2] - min) * id + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      set_q5_high_bits(y[i].qh, j, q0);
      set_q5_high_bits(y[i].qh, j + kQK / 2, q1);
    }
  }
}

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = static_cast<int8_t>(truncate_int(std::round(x[j] * id)));
  }
}

void convert_to_f16(const float* x, fp16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

void convert_to_bf16(const float* x, bf16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}

}  // namespace

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(static_cast<const fp16_t*>(src)[i]);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(static_cast<const bf16_t*>(src)[i]);
      return;
    case GgmlType::Q4_0:
      return dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, n);
    case GgmlType::Q4_1:
      return dequantize_q4_1(static_cast<const BlockQ4_1*>(src), dst, n);
    case GgmlType::Q5_0:
      return dequantize_q5_0(static_cast<const BlockQ5_0*>(src), dst, n);
    case GgmlType::Q5_1:
      return dequantize_q5_1(static_cast<const BlockQ5_1*>(src), dst, n);
    case GgmlType::Q8_0:
      return dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, n);
    case GgmlType::Q8_1:
      return dequantize_q8_1(static_cast<const BlockQ8_1*>(src), dst, n);
    case GgmlType::Q2_K:
      return kquants::dequantize_q2_K(static_cast<const BlockQ2_K*>(src), dst, n);
    case GgmlType::Q3_K:
      return kquants::dequantize_q3_K(static_cast<const BlockQ3_K*>(src), dst, n);
    case GgmlType::Q4_K:
      return kquants::dequantize_q4_K(static_cast<const BlockQ4_K*>(src), dst, n);
    case GgmlType::Q5_K:
      return kquants::dequantize_q5_K(static_cast<const BlockQ5_K*>(src), dst, n);
    case GgmlType::Q6_K:
      return kquants::dequantize_q6_K(static_cast<const BlockQ6_K*>(src), dst, n);
    case GgmlType::Q8_K:
      return kquants::dequantize_q8_K(static_cast<const BlockQ8_K*>(src), dst, n);
  }
}

bool quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return true;
    case GgmlType::F16:
      convert_to_f16(src, static_cast<fp16_t*>(dst), n);
      return true;
    case GgmlType::BF16:
      convert_to_bf16(src, static_cast<bf16_t*>(dst), n);
      return true;
    case GgmlType::Q4_0:
      quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), n);
      return true;
    case GgmlType::Q4_1:
      quantize_q4_1(src, static_cast<BlockQ4_1*>(dst), n);
      return true;
    case GgmlType::Q5_0:
      quantize_q5_0(src, static_cast<BlockQ5_0*>(dst), n);
      return true;
    case GgmlType::Q5_1:
      quantize_q5_1(src, static_cast<BlockQ5_1*>(dst), n);
      return true;
    case GgmlType::Q8_0:
      quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), n);
      return true;
    case GgmlType::Q2_K:
      kquants::quantize_q2_K(src, static_cast<BlockQ2_K*>(dst), n);
      return true;
    case GgmlType::Q3_K:
      kquants::quantize_q3_K(src, static_cast<BlockQ3_K*>(dst), n);
      return true;
    case GgmlType::Q4_K:
      kquants::quantize_q4_K(src, static_cast<BlockQ4_K*>(dst), n);
      return true;
    case GgmlType::Q5_K:
      kquants::quantize_q5_K(src, static_cast<BlockQ5_K*>(dst), n);
      return true;
    case GgmlType::Q6_K:
      kquants::quantize_q6_K(src, static_cast<BlockQ6_K*>(dst), n);
      return true;
    case GgmlType::Q8_1:  // activation formats: quantize_row_q8_1 / _q8_K
    case GgmlType::Q8_K:
      return false;
  }
  return false;
}

}  // namespace gs
