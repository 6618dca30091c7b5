// AVX-512 activation quantizers. Same arithmetic as the scalar reference in
// quants_act.cpp, element for element (the same float multiplies, the same
// rounding), so the bytes are identical; only the loops are wider.
#include <cstdint>

#include "tensor/kernels.h"

namespace gs::kern {
namespace {

// roundf(): to nearest, ties away from zero. v - trunc(v) is exact, so the
// tie test is exact too.
__m512 round_half_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask16 away =
      _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 sign_one = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(v, _mm512_set1_ps(-0.0f)));
  return _mm512_mask_add_ps(t, away, t, sign_one);
}

fp16_t f2h(float f) { return static_cast<fp16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }

// Quantizes one 32-element block with d = amax / 127 (returned in *d_out);
// returns sum(q).
int q8_block(const float* x, int8_t* qs, float* d_out) {
  const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
  const float d = amax / 127.0f;
  const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
  const __m512i q0 = _mm512_cvtps_epi32(round_half_away(_mm512_mul_ps(x0, id)));
  const __m512i q1 = _mm512_cvtps_epi32(round_half_away(_mm512_mul_ps(x1, id)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtepi32_epi8(q0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtepi32_epi8(q1));
  *d_out = d;
  return _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
}

}  // namespace

void quantize_row_q8_0_avx512(const float* src, BlockQ8_0* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    float d;
    q8_block(src + b * kQK, dst[b].qs, &d);
    dst[b].d = f2h(d);
  }
}

void quantize_row_q8_1_avx512(const float* src, BlockQ8_1* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    float d;
    const int sum = q8_block(src + b * kQK, dst[b].qs, &d);
    dst[b].d = f2h(d);
    dst[b].s = f2h(static_cast<float>(sum) * d);
  }
}

void quantize_row_q8_K_avx512(const float* src, BlockQ8_K* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& y = dst[b];
    __m512 vmax = _mm512_setzero_ps();
    for (int j = 0; j < kQK_K; j += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
    const float amax = _mm512_reduce_max_ps(vmax);
    if (amax == 0.0f) {
      __builtin_memset(&y, 0, sizeof y);
      continue;
    }
    // The first element of largest magnitude gives the scale its sign.
    float max = 0.0f;
    for (int j = 0; j < kQK_K; j += 16) {
      const __mmask16 hit =
          _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
      if (hit) {
        max = x[j + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m512 vscale = _mm512_set1_ps(iscale);
    for (int j = 0; j < kQK_K; j += 16) {
      // Nearest, ties to even, capped at 127 (-127 * x / max >= -127 already).
      const __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(vscale, _mm512_loadu_ps(x + j)),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(127));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y.qs + j), _mm512_cvtepi32_epi8(q));
      y.bsums[j / 16] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
    }
    y.d = 1.0f / iscale;
  }
}

}  // namespace gs::kern
