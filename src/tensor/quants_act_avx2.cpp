// AVX2 activation quantizers: the AVX-512 ones (quants_act_avx512.cpp) on
// 8-float registers. Same float operations as the scalar reference in
// quants_act.cpp, so the same bytes.
#include <cstdint>

#include "tensor/kernels.h"

namespace gs::kern {
namespace {

__m256 abs8(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

int hsum8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1)));
}

// roundf(): truncate, then step away from zero when the (exact) dropped
// fraction is at least one half.
__m256 round_half_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 away = _mm256_cmp_ps(abs8(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 sign_one = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
  return _mm256_add_ps(t, _mm256_and_ps(away, sign_one));
}

// Four registers of int32 (in [-128, 127]) to 32 bytes in order.
void store_bytes(int8_t* dst, __m256i q0, __m256i q1, __m256i q2, __m256i q3) {
  // The packs work within 128-bit lanes; the permute puts the dwords back.
  const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
  const __m256i ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), ordered);
}

fp16_t f2h(float f) { return static_cast<fp16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }

// One 32-element block with d = amax / 127 (returned in *d_out); returns sum(q).
int q8_block(const float* x, int8_t* qs, float* d_out) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, abs8(v[k]));
  }
  const float d = hmax8(amax) / 127.0f;
  const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(v[k], id)));
  store_bytes(qs, q[0], q[1], q[2], q[3]);
  *d_out = d;
  return hsum8(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
}

}  // namespace

void quantize_row_q8_0_avx2(const float* src, BlockQ8_0* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    float d;
    q8_block(src + b * kQK, dst[b].qs, &d);
    dst[b].d = f2h(d);
  }
}

void quantize_row_q8_1_avx2(const float* src, BlockQ8_1* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    float d;
    const int sum = q8_block(src + b * kQK, dst[b].qs, &d);
    dst[b].d = f2h(d);
    dst[b].s = f2h(static_cast<float>(sum) * d);
  }
}

void quantize_row_q8_K_avx2(const float* src, BlockQ8_K* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& y = dst[b];
    __m256 vmax = _mm256_setzero_ps();
    for (int j = 0; j < kQK_K; j += 8) vmax = _mm256_max_ps(vmax, abs8(_mm256_loadu_ps(x + j)));
    const float amax = hmax8(vmax);
    if (amax == 0.0f) {
      __builtin_memset(&y, 0, sizeof y);
      continue;
    }
    // The first element of largest magnitude gives the scale its sign.
    float max = 0.0f;
    for (int j = 0; j < kQK_K; j += 8) {
      const __m256 hit = _mm256_cmp_ps(abs8(_mm256_loadu_ps(x + j)), _mm256_set1_ps(amax), _CMP_EQ_OQ);
      if (const int mask = _mm256_movemask_ps(hit)) {
        max = x[j + __builtin_ctz(static_cast<unsigned>(mask))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 vscale = _mm256_set1_ps(iscale);
    for (int j = 0; j < kQK_K; j += 32) {
      // Nearest, ties to even, capped at 127; sums per 16.
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 v = _mm256_round_ps(_mm256_mul_ps(vscale, _mm256_loadu_ps(x + j + 8 * k)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(127));
      }
      store_bytes(y.qs + j, q[0], q[1], q[2], q[3]);
      y.bsums[j / 16] = static_cast<int16_t>(hsum8(_mm256_add_epi32(q[0], q[1])));
      y.bsums[j / 16 + 1] = static_cast<int16_t>(hsum8(_mm256_add_epi32(q[2], q[3])));
    }
    y.d = 1.0f / iscale;
  }
}

}  // namespace gs::kern
