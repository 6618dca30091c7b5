// AVX2 + FMA kernels for the K formats (Q2_K .. Q6_K) against Q8_K
// activations. Same scheme as kernels_k_avx512.cpp on 32-element groups
// (one ymm): vpmaddubsw (unsigned weights x signed activations, int16 pairs),
// vpmaddwd with the group's scales (int32), bsums for mins and offsets.
#include <cstdint>
#include <type_traits>

#include "tensor/kernels.h"

namespace gs::kern {
namespace {

float h2f(fp16_t h) { return _cvtsh_ss(h); }

__m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

__m256i mask_bytes(__m256i x, int m) { return _mm256_and_si256(x, _mm256_set1_epi8(static_cast<char>(m))); }

// `value` added to each byte whose bit g of h[l] is set (Q3_K, Q5_K: bit g
// is the extra bit of group g's element l).
__m256i add_high_bits(__m256i q, const uint8_t* h, int g, int value) {
  const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << g));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(load32(h), bit), bit);
  return _mm256_add_epi8(q, _mm256_and_si256(set, _mm256_set1_epi8(static_cast<char>(value))));
}

// Group g of the 2-bit planes: half g/4, plane g%4 at bits 2 * (g%4).
__m256i two_bit_group(const uint8_t* planes, int g) {
  return mask_bytes(_mm256_srli_epi16(load32(planes + 32 * (g / 4)), 2 * (g % 4)), 3);
}

// A weight super-block's scales, one per 16 elements (the formats with one
// per 32 repeat each), the multipliers of the 16 bsums, and its factors.
struct Prep {
  alignas(32) int16_t scales[16];
  __m256i bmul;
  float d, dmin;  // dmin 0: the bsums term is folded into the integer sum
};

// ---- formats: Block, kHasDmin, prepare(), quants(block, g) -------------------------

struct Q2K {
  using Block = BlockQ2_K;
  static constexpr bool kHasDmin = true;
  static void prepare(const Block& b, Prep* p) {
    const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    _mm256_store_si256(reinterpret_cast<__m256i*>(p->scales), _mm256_cvtepu8_epi16(_mm_and_si128(s, m4)));
    p->bmul = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), m4));
    p->d = h2f(b.d);
    p->dmin = h2f(b.dmin);
  }
  static __m256i quants(const Block& b, int g) { return two_bit_group(b.qs, g); }
};

struct Q3K {
  using Block = BlockQ3_K;
  static constexpr bool kHasDmin = false;
  static void prepare(const Block& b, Prep* p) {
    uint64_t lo, hi;
    q3k_scales_u64(b.scales, &lo, &hi);
    const __m128i biased = _mm_set_epi64x(static_cast<int64_t>(hi), static_cast<int64_t>(lo));
    const __m256i sc = _mm256_cvtepi8_epi16(_mm_sub_epi8(biased, _mm_set1_epi8(32)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(p->scales), sc);
    p->bmul = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc), 2);  // stored q + 4
    p->d = h2f(b.d);
    p->dmin = 0.0f;
  }
  static __m256i quants(const Block& b, int g) {
    return add_high_bits(two_bit_group(b.qs, g), b.hmask, g, 4);
  }
};

template <bool kFive>
struct Q45K {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  static constexpr bool kHasDmin = true;
  static void prepare(const Block& b, Prep* p) {
    uint64_t sc, mn;
    q4k_scales_mins_u64(b.scales, &sc, &mn);
    const __m128i s = _mm_cvtsi64_si128(static_cast<int64_t>(sc));
    const __m128i m = _mm_cvtsi64_si128(static_cast<int64_t>(mn));
    // One scale or min per 32 elements: each serves two 16-element slots.
    _mm256_store_si256(reinterpret_cast<__m256i*>(p->scales), _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(s, s)));
    p->bmul = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m, m));
    p->d = h2f(b.d);
    p->dmin = h2f(b.dmin);
  }
  // Group g: the low (g even) or high nibbles of 32 bytes of qs.
  static __m256i quants(const Block& b, int g) {
    const __m256i q = mask_bytes(_mm256_srli_epi16(load32(b.qs + 32 * (g / 2)), 4 * (g % 2)), 0x0F);
    if constexpr (kFive) return add_high_bits(q, b.qh, g, 16);
    return q;
  }
};

struct Q6K {
  using Block = BlockQ6_K;
  static constexpr bool kHasDmin = false;
  static void prepare(const Block& b, Prep* p) {
    const __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(p->scales), sc);
    p->bmul = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc), 5);  // stored q + 32
    p->d = h2f(b.d);
    p->dmin = 0.0f;
  }
  // Group g = quarter k = g%4 of half g/4: low nibbles of ql[32 * (k%2)..]
  // for k < 2, high nibbles for k >= 2; top bits from plane k of qh.
  static __m256i quants(const Block& b, int g) {
    const int half = g / 4, k = g % 4;
    const __m256i ql = _mm256_srli_epi16(load32(b.ql + 64 * half + 32 * (k % 2)), 4 * (k / 2));
    const __m256i qh = _mm256_srli_epi16(load32(b.qh + 32 * half), 2 * k);
    return _mm256_or_si256(mask_bytes(ql, 0x0F), _mm256_slli_epi16(mask_bytes(qh, 3), 4));
  }
};

float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

template <class W>
struct SuperBlockKernel {
  using Block = typename W::Block;

  template <int R, int T>
  static void tile(const Tile& p) {
    const int64_t nb = p.n / kQK_K;
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    for (int64_t i = 0; i < nb; ++i) {
      Prep prep[R];
      for (int r = 0; r < R; ++r) {
        const Block& w = row_blocks<Block>(p.w, p.w_stride, r)[i];
        for (size_t o = 0; o < sizeof(Block); o += 64)
          prefetch_ahead(reinterpret_cast<const uint8_t*>(&w) + o);
        W::prepare(w, &prep[r]);
      }
      __m256i isum[R][T];
      for (int r = 0; r < R; ++r) {
        for (int t = 0; t < T; ++t) isum[r][t] = _mm256_setzero_si256();
      }
      for (int g = 0; g < 8; ++g) {
        for (int r = 0; r < R; ++r) {
          const __m256i q = W::quants(row_blocks<Block>(p.w, p.w_stride, r)[i], g);
          // Lanes 0-7 cover sub-block 2g, lanes 8-15 sub-block 2g + 1.
          const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(prep[r].scales[2 * g + 1]),
                                              _mm_set1_epi16(prep[r].scales[2 * g]));
          for (int t = 0; t < T; ++t) {
            const BlockQ8_K& a = row_blocks<BlockQ8_K>(p.a, p.a_stride, t)[i];
            const __m256i prod = _mm256_maddubs_epi16(q, load32(a.qs + 32 * g));
            isum[r][t] = _mm256_add_epi32(isum[r][t], _mm256_madd_epi16(prod, sc));
          }
        }
      }
      for (int t = 0; t < T; ++t) {
        const BlockQ8_K& a = row_blocks<BlockQ8_K>(p.a, p.a_stride, t)[i];
        const __m256i bsums = load32(a.bsums);
        const __m256 da = _mm256_set1_ps(a.d);
        for (int r = 0; r < R; ++r) {
          const __m256i bdot = _mm256_madd_epi16(prep[r].bmul, bsums);
          __m256 f;
          if constexpr (W::kHasDmin) {
            f = _mm256_mul_ps(_mm256_cvtepi32_ps(isum[r][t]), _mm256_set1_ps(prep[r].d));
            f = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(bdot), _mm256_set1_ps(prep[r].dmin), f);
          } else {
            f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(isum[r][t], bdot)),
                              _mm256_set1_ps(prep[r].d));
          }
          acc[r][t] = _mm256_fmadd_ps(f, da, acc[r][t]);
        }
      }
    }
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < R; ++r) p.y[t * p.y_stride + r] = hsum(acc[r][t]);
    }
  }
};

// 2 rows x 2 tokens: 4 integer sums and 4 float accumulators.
template <class W>
Kernel make_kernel() {
  return {run_tile<SuperBlockKernel<W>, 2, 2>, 2, 2, 2};
}

}  // namespace

Kernel avx2_kernel_k(GgmlType type) {
  switch (type) {
    case GgmlType::Q2_K:
      return make_kernel<Q2K>();
    case GgmlType::Q3_K:
      return make_kernel<Q3K>();
    case GgmlType::Q4_K:
      return make_kernel<Q45K<false>>();
    case GgmlType::Q5_K:
      return make_kernel<Q45K<true>>();
    case GgmlType::Q6_K:
      return make_kernel<Q6K>();
    default:
      return {};
  }
}

}  // namespace gs::kern
