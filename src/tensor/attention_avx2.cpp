// Grouped-query attention with AVX2 + FMA + F16C: 8 floats per vector; f16
// rows are widened with vcvtph2ps in registers. The kernel is attention_simd.h.
#include "tensor/kernels.h"  // <immintrin.h>, with GCC 12's warnings silenced

#include <cstdint>

#include "tensor/simd_avx2.h"

namespace gs::attn {
namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int64_t kW = 8;

  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V x) { _mm256_storeu_ps(p, x); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static float first(V x) { return _mm256_cvtss_f32(x); }
  static float hsum(V x) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(V x) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }

  // Lanes n and up replaced by `fill`.
  static V keep_first(V x, int64_t n, float fill) {
    if (n >= kW) return x;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lane);
    return _mm256_blendv_ps(set1(fill), x, _mm256_castsi256_ps(keep));
  }

  static V load_f16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  // 8 int8 at qs times the fp16 scale at d.
  static V load_q8(const int8_t* qs, const uint8_t* d) {
    uint16_t h;
    __builtin_memcpy(&h, d, 2);
    const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs)));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(q), set1(_cvtsh_ss(h)));
  }

  // 2^x for x <= 0; 0 below -127.
  static V exp2(V x) { return simd::exp2_nonpositive(x); }

  // Lane r = sum of the 8 floats at part + 8 r: a transposing tree of
  // shuffles and adds, 21 instructions for 8 rows.
  static V sum_rows(const float* part) {
    V t[4];
#pragma GCC unroll 8
    for (int i = 0; i < 4; ++i) {  // per 128-bit lane: a0+a2, b0+b2, a1+a3, b1+b3
      const V a = load(part + 16 * i), b = load(part + 16 * i + 8);
      t[i] = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
    }
    V u[2];
#pragma GCC unroll 8
    for (int i = 0; i < 2; ++i) {  // per 128-bit lane: rows 4i..4i+3
      const __m256d x = _mm256_castps_pd(t[2 * i]), y = _mm256_castps_pd(t[2 * i + 1]);
      u[i] = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(x, y)),
                           _mm256_castpd_ps(_mm256_unpackhi_pd(x, y)));
    }
    return _mm256_add_ps(_mm256_permute2f128_ps(u[0], u[1], 0x20), _mm256_permute2f128_ps(u[0], u[1], 0x31));
  }
};

}  // namespace
}  // namespace gs::attn

#include "tensor/attention_simd.h"

namespace gs::attn {

void attend_avx2(const Job& job) { attend_any<Avx2>(job); }

}  // namespace gs::attn
