// Vector math shared by the AVX2 files (attention_avx2.cpp, ops_avx2.cpp).
// Internal linkage: each file compiled with AVX2 flags gets its own copy (see
// kernels.h on why ISA-flagged code must not share inline functions).
#pragma once

#include "tensor/kernels.h"  // <immintrin.h>, with GCC 12's warnings silenced

namespace gs::simd {
namespace {

// 2^x for x <= 0 (Cephes exp2f: relative error about 2e-7); 0 below -127.
[[maybe_unused]] __m256 exp2_nonpositive(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-127.0f));
  const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(x, n);
  __m256 p = _mm256_set1_ps(1.535336188319500e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  // 2^n built in the exponent field; n = -127 gives the bits of 0.0f.
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

}  // namespace
}  // namespace gs::simd
