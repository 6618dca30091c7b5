// Activation quantizers: f32 activations to the 8-bit formats the integer dot
// products take. The rounding follows llama.cpp's reference quantizers so the
// same inputs give the same bytes (and so the same matmul results):
//   Q8_0, Q8_1: d = amax / 127, q = roundf(x / d) (ties away from zero);
//   Q8_K: scale from the signed value of largest magnitude, q rounded to
//         nearest even and capped at 127, plus sums of each 16 q.
// The AVX2 and AVX-512 versions (quants_act_avx2.cpp, quants_act_avx512.cpp)
// produce identical bytes.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "tensor/cpu.h"
#include "tensor/kernels.h"
#include "tensor/quants.h"

namespace gs {
namespace {

// roundf() without the libm call: truncate (exact for |x| < 2^31), then
// step away from zero when the dropped fraction is at least one half (the
// fraction x - trunc(x) is exact in float).
int round_half_away(float x) {
  const int t = static_cast<int>(x);
  const float frac = x - static_cast<float>(t);
  return t + (frac >= 0.5f) - (frac <= -0.5f);
}

// Round to nearest, ties to even, as llama.cpp's Q8_K quantizer does it:
// adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits
// (valid for |x| < 2^22).
int nearest_even(float x) {
  const float shifted = x + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007FFFFF) - 0x00400000;
}

void q8_0_scalar(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) y[b].qs[j] = static_cast<int8_t>(round_half_away(x[j] * id));
  }
}

void q8_1_scalar(const float* x, BlockQ8_1* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      y[b].qs[j] = static_cast<int8_t>(round_half_away(x[j] * id));
      sum += y[b].qs[j];
    }
    y[b].d = fp32_to_fp16(d);
    y[b].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

void q8_k_scalar(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    // The first element of largest magnitude sets the sign of the scale.
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof y[b]);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      const int q = nearest_even(iscale * x[j]);
      y[b].qs[j] = static_cast<int8_t>(q < 127 ? q : 127);
    }
    for (int k = 0; k < kQK_K / 16; ++k) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += y[b].qs[16 * k + j];
      y[b].bsums[k] = static_cast<int16_t>(sum);
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace

void quantize_row_q8_0(const float* src, BlockQ8_0* dst, int64_t n) {
  switch (active_simd()) {
    case SimdLevel::kAvx512Vnni:
      return kern::quantize_row_q8_0_avx512(src, dst, n);
    case SimdLevel::kAvx2:
      return kern::quantize_row_q8_0_avx2(src, dst, n);
    case SimdLevel::kScalar:
      return q8_0_scalar(src, dst, n);
  }
}

void quantize_row_q8_1(const float* src, BlockQ8_1* dst, int64_t n) {
  switch (active_simd()) {
    case SimdLevel::kAvx512Vnni:
      return kern::quantize_row_q8_1_avx512(src, dst, n);
    case SimdLevel::kAvx2:
      return kern::quantize_row_q8_1_avx2(src, dst, n);
    case SimdLevel::kScalar:
      return q8_1_scalar(src, dst, n);
  }
}

void quantize_row_q8_K(const float* src, BlockQ8_K* dst, int64_t n) {
  switch (active_simd()) {
    case SimdLevel::kAvx512Vnni:
      return kern::quantize_row_q8_K_avx512(src, dst, n);
    case SimdLevel::kAvx2:
      return kern::quantize_row_q8_K_avx2(src, dst, n);
    case SimdLevel::kScalar:
      return q8_k_scalar(src, dst, n);
  }
}

}  // namespace gs
