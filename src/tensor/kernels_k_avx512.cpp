// AVX-512 + VNNI kernels for the K formats (Q2_K .. Q6_K) against Q8_K
// activations.
//
// A super-block of 256 weights is handled as four groups of 64 (one zmm).
// Weights are unpacked to unsigned bytes; vpmaddubsw multiplies them with the
// signed activation bytes and adds neighbouring pairs into int16 lanes (no
// overflow: 2 * 63 * 127 < 32767), and vpdpwssd multiplies those lanes by the
// sub-block scales (as int16) and accumulates into int32. Each int16 lane
// covers two consecutive elements, so lane j gets the scale of elements 2j
// and 2j + 1.
//
// The per-sub-block activation sums (Q8_K bsums) supply the rest:
//  - Q2_K, Q4_K, Q5_K subtract dmin * sum(min_k * bsum_k), a second float term;
//  - Q3_K and Q6_K store q + 4 and q + 32; the offset times
//    sum(scale_k * bsum_k) is an integer and is folded into the integer sum.
#include <cstdint>
#include <type_traits>

#include "tensor/kernels.h"

namespace gs::kern {
namespace {

float h2f(fp16_t h) { return _cvtsh_ss(h); }

// What a kernel needs from one weight super-block besides its quants.
struct Prep {
  __m512i scales;  // int16 sub-block scales in lanes 0-7 (8 scales) or 0-15 (16)
  __m256i bmul;    // int16 multiplier of each of the 16 bsums
  float d;         // factor of the scaled integer sum
  float dmin;      // factor of sum(bmul * bsums), subtracted (0: folded in)
};

// [x, x]: the same 32 bytes in both halves of a zmm.
__m512i load_twice(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Shifts the low 32 bytes right by `lo` bits and the high 32 by `hi` (as
// 16-bit lanes: callers mask away the bits that cross from the next byte).
__m512i shift_halves(__m512i x, int lo, int hi) {
  const __m512i counts = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(lo)),
                                            _mm256_set1_epi16(static_cast<int16_t>(hi)), 1);
  return _mm512_srlv_epi16(x, counts);
}

__m512i mask_bytes(__m512i x, int m) { return _mm512_and_si512(x, _mm512_set1_epi8(static_cast<char>(m))); }

// Adds `value` to the bytes of group g whose high bit is set. Q3_K and Q5_K
// keep one extra bit per element: element l of sub-block k (32 elements) is
// bit k of h[l], so group g (sub-blocks 2g, 2g + 1) tests bit 2g in its
// first 32 bytes and bit 2g + 1 in the rest.
__m512i add_high_bits(__m512i q, const uint8_t* h, int g, int value) {
  const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * g))),
                                         _mm256_set1_epi8(static_cast<char>(1 << (2 * g + 1))), 1);
  const __mmask64 set = _mm512_test_epi8_mask(load_twice(h), bit);
  return _mm512_mask_add_epi8(q, set, q, _mm512_set1_epi8(static_cast<char>(value)));
}

// 64-element groups of the 2-bit formats (Q2_K, Q3_K, and Q6_K's high bits):
// each half of 128 elements packs four planes of 32 into 32 bytes, plane j at
// bits 2j. Group g is planes 2(g%2) and 2(g%2) + 1 of half g/2.
__m512i two_bit_group(const uint8_t* planes, int g) {
  const int shift = 4 * (g % 2);
  return mask_bytes(shift_halves(load_twice(planes + 32 * (g / 2)), shift, shift + 2), 3);
}

// Index vectors for vpermw: lane j of group g gets the scale of its
// sub-block, with 16 scales (per16) or 8 (per32).
struct ScaleIndex {
  alignas(64) int16_t lanes[2][4][32];
};
constexpr ScaleIndex make_scale_index() {
  ScaleIndex s{};
  for (int g = 0; g < 4; ++g) {
    for (int j = 0; j < 32; ++j) {
      s.lanes[0][g][j] = static_cast<int16_t>(4 * g + j / 8);
      s.lanes[1][g][j] = static_cast<int16_t>(2 * g + j / 16);
    }
  }
  return s;
}
constexpr ScaleIndex kScaleIndex = make_scale_index();

// ---- formats -------------------------------------------------------------------

struct Q2K {
  using Block = BlockQ2_K;
  static constexpr bool kPer32 = false;  // 16 scales, one per 16 elements
  static constexpr bool kHasDmin = true;
  static Prep prepare(const Block& b) {
    const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    return {_mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(s, m4))),
            _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), m4)), h2f(b.d), h2f(b.dmin)};
  }
  static __m512i quants(const Block& b, int g) { return two_bit_group(b.qs, g); }
};

struct Q3K {
  using Block = BlockQ3_K;
  static constexpr bool kPer32 = false;
  static constexpr bool kHasDmin = false;
  static Prep prepare(const Block& b) {
    uint64_t lo, hi;
    q3k_scales_u64(b.scales, &lo, &hi);
    const __m128i biased = _mm_set_epi64x(static_cast<int64_t>(hi), static_cast<int64_t>(lo));
    const __m256i sc = _mm256_cvtepi8_epi16(_mm_sub_epi8(biased, _mm_set1_epi8(32)));
    // Stored q + 4: take back 4 * scale_k * bsum_k.
    return {_mm512_castsi256_si512(sc), _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc), 2),
            h2f(b.d), 0.0f};
  }
  static __m512i quants(const Block& b, int g) {
    return add_high_bits(two_bit_group(b.qs, g), b.hmask, g, 4);
  }
};

template <bool kFive>
struct Q45K {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  static constexpr bool kPer32 = true;  // 8 scales, one per 32 elements
  static constexpr bool kHasDmin = true;
  static Prep prepare(const Block& b) {
    uint64_t sc, mn;
    q4k_scales_mins_u64(b.scales, &sc, &mn);
    const __m128i mins = _mm_cvtsi64_si128(static_cast<int64_t>(mn));
    // bsums come per 16 elements: each min serves two of them.
    return {_mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sc)))),
            _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mins, mins)), h2f(b.d), h2f(b.dmin)};
  }
  // Group g: 32 bytes of qs, low nibbles then high nibbles.
  static __m512i quants(const Block& b, int g) {
    const __m512i q = mask_bytes(shift_halves(load_twice(b.qs + 32 * g), 0, 4), 0x0F);
    if constexpr (kFive) return add_high_bits(q, b.qh, g, 16);
    return q;
  }
};

struct Q6K {
  using Block = BlockQ6_K;
  static constexpr bool kPer32 = false;
  static constexpr bool kHasDmin = false;
  static Prep prepare(const Block& b) {
    const __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    // Stored q + 32: take back 32 * scale_k * bsum_k.
    return {_mm512_castsi256_si512(sc), _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc), 5),
            h2f(b.d), 0.0f};
  }
  // Half g/2 has 64 bytes of low nibbles: its first group takes the low
  // nibbles, the second the high ones. The top two bits are 2-bit planes.
  static __m512i quants(const Block& b, int g) {
    const __m512i ql = _mm512_loadu_si512(b.ql + 64 * (g / 2));
    const __m512i low = mask_bytes(g % 2 ? _mm512_srli_epi16(ql, 4) : ql, 0x0F);
    const __m512i high = _mm512_slli_epi16(two_bit_group(b.qh, g), 4);
    return _mm512_or_si512(low, high);
  }
};

// ---- the super-block kernel ---------------------------------------------------------

template <class W>
struct SuperBlockKernel {
  using Block = typename W::Block;

  template <int R, int T>
  static void tile(const Tile& p) {
    const int64_t nb = p.n / kQK_K;
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }

    for (int64_t i = 0; i < nb; ++i) {
      Prep prep[R];
      for (int r = 0; r < R; ++r) prep[r] = W::prepare(row_blocks<Block>(p.w, p.w_stride, r)[i]);
      for (int r = 0; r < R; ++r) {
        const uint8_t* b = reinterpret_cast<const uint8_t*>(row_blocks<Block>(p.w, p.w_stride, r) + i);
        for (size_t o = 0; o < sizeof(Block); o += 64) prefetch_ahead(b + o);
      }
      __m512i isum[R][T];
      for (int r = 0; r < R; ++r) {
        for (int t = 0; t < T; ++t) isum[r][t] = _mm512_setzero_si512();
      }
      for (int g = 0; g < 4; ++g) {
        for (int r = 0; r < R; ++r) {
          const __m512i q = W::quants(row_blocks<Block>(p.w, p.w_stride, r)[i], g);
          const __m512i sc =
              _mm512_permutexvar_epi16(_mm512_load_si512(kScaleIndex.lanes[W::kPer32][g]), prep[r].scales);
          for (int t = 0; t < T; ++t) {
            const BlockQ8_K& a = row_blocks<BlockQ8_K>(p.a, p.a_stride, t)[i];
            const __m512i prod = _mm512_maddubs_epi16(q, _mm512_loadu_si512(a.qs + 64 * g));
            isum[r][t] = _mm512_dpwssd_epi32(isum[r][t], prod, sc);
          }
        }
      }
      for (int t = 0; t < T; ++t) {
        const BlockQ8_K& a = row_blocks<BlockQ8_K>(p.a, p.a_stride, t)[i];
        const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
        const __m512 da = _mm512_set1_ps(a.d);
        for (int r = 0; r < R; ++r) {
          // 8 int32 lanes of bmul * bsums (upper half of the zmm zero).
          const __m512i bdot = _mm512_zextsi256_si512(_mm256_madd_epi16(prep[r].bmul, bsums));
          __m512 f;
          if constexpr (W::kHasDmin) {
            f = _mm512_mul_ps(_mm512_cvtepi32_ps(isum[r][t]), _mm512_set1_ps(prep[r].d));
            f = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(bdot), _mm512_set1_ps(prep[r].dmin), f);
          } else {
            f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(isum[r][t], bdot)),
                              _mm512_set1_ps(prep[r].d));
          }
          acc[r][t] = _mm512_fmadd_ps(f, da, acc[r][t]);
        }
      }
    }
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < R; ++r) p.y[t * p.y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
    }
  }
};

// Tiles of 4 rows x 4 tokens (Q2_K, Q4_K) or 2 x 4 (the others, whose
// unpacking needs more registers): the integer sums of a super-block and the
// float accumulators stay in registers, and each unpacked weight group serves
// four tokens. Measured on 2048 x 2048, 64 tokens: 4 x 4 is 5-10% faster
// than 2 x 4 for Q2_K and Q4_K, 5-12% slower for Q3_K, Q5_K and Q6_K.
// Decode takes 4 rows at a time (8 measured no better).
template <class W, int R, int RD = 4>
Kernel make_kernel() {
  return {run_tile<SuperBlockKernel<W>, R, 4, RD>, R, 4, RD};
}

}  // namespace

Kernel avx512_kernel_k(GgmlType type) {
  switch (type) {
    case GgmlType::Q2_K:
      return make_kernel<Q2K, 4>();
    case GgmlType::Q3_K:
      return make_kernel<Q3K, 2>();
    case GgmlType::Q4_K:
      return make_kernel<Q45K<false>, 4>();
    case GgmlType::Q5_K:
      return make_kernel<Q45K<true>, 2>();
    case GgmlType::Q6_K:
      return make_kernel<Q6K, 2>();
    default:
      return {};
  }
}

}  // namespace gs::kern
