// AVX2 + FMA + F16C versions of the element-wise ops that batched decoding
// runs once per token and layer (dispatched from ops.cpp).
#include <cstdint>

#include "tensor/ops_simd.h"
#include "tensor/simd_avx2.h"

namespace gs {
namespace {

// g * sigmoid(g) * u, with sigmoid from z = e^-|g| <= 1 so that the
// exponential never overflows: 1 / (1 + z) for g >= 0, z / (1 + z) below.
__m256 silu_times(__m256 g, __m256 u) {
  const __m256 abs_g = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), g);
  const __m256 z = simd::exp2_nonpositive(_mm256_mul_ps(abs_g, _mm256_set1_ps(-1.4426950408889634f)));
  const __m256 num = _mm256_blendv_ps(_mm256_set1_ps(1.0f), z, g);  // g's sign bit picks z
  const __m256 sigmoid = _mm256_div_ps(num, _mm256_add_ps(_mm256_set1_ps(1.0f), z));
  return _mm256_mul_ps(_mm256_mul_ps(g, sigmoid), u);
}

}  // namespace

int64_t silu_mul_avx2(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(gate + i, silu_times(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  }
  return i;
}

int64_t fp32_to_fp16_avx2(const float* src, fp16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  return i;
}

}  // namespace gs
