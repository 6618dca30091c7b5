// Grouped-query attention with AVX-512: 16 floats per vector; f16 rows are
// widened with vcvtph2ps in registers. The kernel is attention_simd.h.
#include "tensor/kernels.h"  // <immintrin.h>, with GCC 12's warnings silenced

#include <cstdint>

namespace gs::attn {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int64_t kW = 16;

  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V x) { _mm512_storeu_ps(p, x); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static float hsum(V x) { return _mm512_reduce_add_ps(x); }
  static float hmax(V x) { return _mm512_reduce_max_ps(x); }
  static float first(V x) { return _mm512_cvtss_f32(x); }

  // Lanes n and up replaced by `fill`.
  static V keep_first(V x, int64_t n, float fill) {
    if (n >= kW) return x;
    return _mm512_mask_blend_ps(static_cast<__mmask16>((1u << n) - 1), set1(fill), x);
  }

  static V load_f16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  // 16 int8 at qs times the fp16 scale at d.
  static V load_q8(const int8_t* qs, const uint8_t* d) {
    uint16_t h;
    __builtin_memcpy(&h, d, 2);
    const __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(q), set1(_cvtsh_ss(h)));
  }

  // 2^x for x <= 0 (Cephes exp2f: relative error about 2e-7); below -127 it
  // gives 0 or a denormal, which is what a softmax weight that small is.
  static V exp2(V x) {
    x = _mm512_max_ps(x, set1(-127.0f));
    const V n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const V f = _mm512_sub_ps(x, n);
    V p = set1(1.535336188319500e-4f);
    p = fma(p, f, set1(1.339887440266574e-3f));
    p = fma(p, f, set1(9.618437357674640e-3f));
    p = fma(p, f, set1(5.550332471162809e-2f));
    p = fma(p, f, set1(2.402264791363012e-1f));
    p = fma(p, f, set1(6.931472028550421e-1f));
    p = fma(p, f, set1(1.0f));
    return _mm512_scalef_ps(p, n);
  }

  // Lane r = sum of the 16 floats at part + 16 r: a transposing tree of
  // shuffles and adds, 45 instructions for 16 rows.
  static V sum_rows(const float* part) {
    V t[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {  // per 128-bit lane: a0+a2, b0+b2, a1+a3, b1+b3
      const V a = load(part + 32 * i), b = load(part + 32 * i + 16);
      t[i] = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    }
    V u[4];
#pragma GCC unroll 8
    for (int i = 0; i < 4; ++i) {  // per 128-bit lane: rows 4i..4i+3
      const __m512d x = _mm512_castps_pd(t[2 * i]), y = _mm512_castps_pd(t[2 * i + 1]);
      u[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)),
                           _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
    }
    V w[2];
#pragma GCC unroll 8
    for (int i = 0; i < 2; ++i) {  // rows 8i..8i+3 (lanes 0, 1), 8i+4..8i+7 (lanes 2, 3)
      w[i] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    }
    return _mm512_add_ps(_mm512_shuffle_f32x4(w[0], w[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(w[0], w[1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
};

}  // namespace
}  // namespace gs::attn

#include "tensor/attention_simd.h"

namespace gs::attn {

void attend_avx512(const Job& job) { attend_any<Avx512>(job); }

}  // namespace gs::attn
