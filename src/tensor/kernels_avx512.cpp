// AVX-512 + VNNI kernels for the float weights and the 32-element block
// formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0). The K formats are in
// kernels_k_avx512.cpp.
//
// Integer core: vpdpbusd multiplies unsigned bytes by signed bytes and adds
// each group of four products into a 32-bit lane. Weights are unpacked to
// unsigned bytes (q + offset as stored; Q8_0 gets +128 by flipping the sign
// bit), the activations stay signed, and the offset is taken back out through
// the activations: sum((q - off) * a) = sum(q * a) - off * sum(a). The
// off * sum(a) term depends only on the token, so a tile computes it once per
// block and shares it across its rows.
//
// One zmm holds two blocks (64 bytes): lanes 0-7 belong to the first block
// and lanes 8-15 to the second. Each lane's integer sum is converted to float
// and scaled by its block's dw * da; lanes are added up only at the end.
#include <cstdint>

#include "tensor/kernels.h"

namespace gs::kern {
namespace {

// ---- loading a pair of blocks -----------------------------------------------------
// The blocks are packed (18 to 36 bytes), so a pair seldom starts on a
// vector boundary and its fields sit at odd places. A pair of Q4_0, Q4_1,
// Q5_0 or Q5_1 blocks fits one zmm: load it with a mask (a masked load never
// touches, so never faults on, bytes past the last block) and move its
// 16-bit words where they are needed with vpermw, one instruction each for
// the scales and the quants. The shuffle port is the bottleneck of decode
// from cache; this needs 3 shuffles a pair where loading field by field and
// inserting took about 8 (2048 x 2048 Q4_0 from L3: 1.3x faster).

// A vpermw index: lane j takes word w[j] of the source.
struct WordIndex {
  alignas(64) int16_t w[32];
};

// Lanes 0-7 take word a, lanes 8-15 word b: an fp16 field of each block of a
// pair, ready for vcvtph2ps (which reads lanes 0-15) to give 8 + 8 floats.
constexpr WordIndex splat_pair(int a, int b) {
  WordIndex x{};
  for (int j = 0; j < 16; ++j) x.w[j] = static_cast<int16_t>(j < 8 ? a : b);
  return x;
}

// The 8 words (16 bytes of nibbles) at a, twice, then those at b, twice.
constexpr WordIndex nibble_pair(int a, int b) {
  WordIndex x{};
  for (int j = 0; j < 32; ++j) x.w[j] = static_cast<int16_t>((j < 16 ? a : b) + j % 8);
  return x;
}

__m512i permute_words(const WordIndex& index, __m512i x) {
  return _mm512_permutexvar_epi16(_mm512_load_si512(index.w), x);
}

// 16 floats from the fp16 words in lanes 0-15.
__m512 half_to_float(__m512i x) { return _mm512_cvtph_ps(_mm512_castsi512_si256(x)); }

// The first `words` 16-bit words at p; the rest zero.
__m512i load_words(const void* p, int words) {
  return _mm512_maskz_loadu_epi16(static_cast<__mmask32>((uint64_t{1} << words) - 1), p);
}

// Nibbles doubled by nibble_pair ([q0, q0, q1, q1] in 128-bit lanes) to one
// element per byte: the second copy of each block is shifted right by 4.
__m512i split_nibbles(__m512i doubled) {
  const __m512i shifted = _mm512_srlv_epi64(doubled, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
  return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0F));
}

// The 32 quants of each block of a pair (Q8_0, Q8_1; the second zero for a
// lone block).
template <bool kTwo, class Block>
__m512i load_pair(const Block* b) {
  const __m512i lo = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[0].qs)));
  if constexpr (!kTwo) return lo;
  return _mm512_inserti64x4(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[1].qs)), 1);
}

// Q5's fifth bits: bit j of a block's qh goes to element j. Both blocks'
// 32 bits form one 64-bit mask that adds 16 to the selected bytes.
template <bool kTwo, class Block>
__m512i add_fifth_bits(__m512i q, const Block* b) {
  uint32_t lo = 0, hi = 0;
  __builtin_memcpy(&lo, b[0].qh, 4);
  if constexpr (kTwo) __builtin_memcpy(&hi, b[1].qh, 4);
  const __mmask64 bits = _cvtu64_mask64(lo | (static_cast<uint64_t>(hi) << 32));
  return _mm512_mask_add_epi8(q, bits, q, _mm512_set1_epi8(16));
}

// ---- formats ------------------------------------------------------------------------
// Each weight format loads a pair of blocks (or a lone last block, kTwo
// false) into: q, 64 unsigned quants; d, the pair's scales (8 lanes each);
// m, its mins (Q4_1, Q5_1). kOffset is subtracted from every quant.

struct Pair {
  __m512i q;
  __m512 d, m;
};

struct Q4_0 {
  using Block = BlockQ4_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 8;
  static constexpr bool kHasMin = false;
  static constexpr WordIndex kD = splat_pair(0, 9), kQ = nibble_pair(1, 10);  // 9 words a block
  template <bool kTwo>
  static Pair load(const Block* b) {
    const __m512i raw = load_words(b, kTwo ? 18 : 9);
    return {split_nibbles(permute_words(kQ, raw)), half_to_float(permute_words(kD, raw)),
            _mm512_setzero_ps()};
  }
};

struct Q4_1 {
  using Block = BlockQ4_1;
  using Act = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static constexpr WordIndex kD = splat_pair(0, 10), kM = splat_pair(1, 11), kQ = nibble_pair(2, 12);
  template <bool kTwo>
  static Pair load(const Block* b) {
    const __m512i raw = load_words(b, kTwo ? 20 : 10);
    return {split_nibbles(permute_words(kQ, raw)), half_to_float(permute_words(kD, raw)),
            half_to_float(permute_words(kM, raw))};
  }
};

struct Q5_0 {
  using Block = BlockQ5_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 16;
  static constexpr bool kHasMin = false;
  static constexpr WordIndex kD = splat_pair(0, 11), kQ = nibble_pair(3, 14);
  template <bool kTwo>
  static Pair load(const Block* b) {
    const __m512i raw = load_words(b, kTwo ? 22 : 11);
    const __m512i q = add_fifth_bits<kTwo>(split_nibbles(permute_words(kQ, raw)), b);
    return {q, half_to_float(permute_words(kD, raw)), _mm512_setzero_ps()};
  }
};

struct Q5_1 {
  using Block = BlockQ5_1;
  using Act = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static constexpr WordIndex kD = splat_pair(0, 12), kM = splat_pair(1, 13), kQ = nibble_pair(4, 16);
  template <bool kTwo>
  static Pair load(const Block* b) {
    const __m512i raw = load_words(b, kTwo ? 24 : 12);
    const __m512i q = add_fifth_bits<kTwo>(split_nibbles(permute_words(kQ, raw)), b);
    return {q, half_to_float(permute_words(kD, raw)), half_to_float(permute_words(kM, raw))};
  }
};

// Q8_0 blocks (17 words) do not fit two to a zmm: the quants come from two
// loads, the scales from a load of just the two words that hold them.
constexpr WordIndex kQ8Scales = splat_pair(0, 17);
template <bool kTwo>
__m512 q8_scales(const BlockQ8_0* b) {
  const __mmask32 words = kTwo ? (1u | (1u << 17)) : 1u;
  return half_to_float(permute_words(kQ8Scales, _mm512_maskz_loadu_epi16(words, b)));
}

struct Q8_0 {
  using Block = BlockQ8_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 128;
  static constexpr bool kHasMin = false;
  // Flipping the sign bit maps int8 w to the unsigned byte w + 128.
  template <bool kTwo>
  static Pair load(const Block* b) {
    const __m512i q = _mm512_xor_si512(load_pair<kTwo>(b), _mm512_set1_epi8(static_cast<char>(0x80)));
    return {q, q8_scales<kTwo>(b), _mm512_setzero_ps()};
  }
};

// Activations of a pair: quants, scales, and for Q8_1 s = d * sum(q) in one
// lane per block (so that summing the lanes counts it once).
struct ActPair {
  __m512i q;
  __m512 d, s;
};

template <bool kTwo>
ActPair load_act(const BlockQ8_0* a) {
  return {load_pair<kTwo>(a), q8_scales<kTwo>(a), _mm512_setzero_ps()};
}

constexpr WordIndex kQ81Scales = splat_pair(0, 18), kQ81Sums = splat_pair(1, 19);
template <bool kTwo>
ActPair load_act(const BlockQ8_1* a) {
  const __m512i raw = _mm512_maskz_loadu_epi16(kTwo ? 0xC0003u : 0x3u, a);  // d, s of each block
  const __m512 s = half_to_float(permute_words(kQ81Sums, raw));
  return {load_pair<kTwo>(a), half_to_float(permute_words(kQ81Scales, raw)), _mm512_maskz_mov_ps(0x0101, s)};
}

// ---- the 32-element block kernel ---------------------------------------------------

template <class W>
struct Block32Kernel {
  using Block = typename W::Block;
  using Act = typename W::Act;

  // Blocks i and i + 1 (only i when !kTwo) of every row and token.
  template <int R, int T, bool kTwo>
  static void step(const Tile& p, int64_t i, __m512 (&acc)[R][T]) {
    // Per token: the integer sum starts at -off * sum(a), spread over the
    // lanes like the products it corrects.
    ActPair a[T];
    __m512i start[T];
    for (int t = 0; t < T; ++t) {
      a[t] = load_act<kTwo>(row_blocks<Act>(p.a, p.a_stride, t) + i);
      start[t] = _mm512_setzero_si512();
      if constexpr (W::kOffset != 0) {
        const __m512i offset = _mm512_set1_epi8(static_cast<char>(W::kOffset));
        start[t] = _mm512_sub_epi32(start[t], _mm512_dpbusd_epi32(start[t], offset, a[t].q));
      }
    }
    for (int r = 0; r < R; ++r) {
      const Block* wb = row_blocks<Block>(p.w, p.w_stride, r) + i;
      prefetch_ahead(wb);
      const Pair w = W::template load<kTwo>(wb);
      for (int t = 0; t < T; ++t) {
        const __m512i isum = _mm512_dpbusd_epi32(start[t], w.q, a[t].q);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(w.d, a[t].d), acc[r][t]);
        if constexpr (W::kHasMin) acc[r][t] = _mm512_fmadd_ps(w.m, a[t].s, acc[r][t]);
      }
    }
  }

  template <int R, int T>
  static void tile(const Tile& p) {
    const int64_t nb = p.n / kQK;
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    // A lone last block first: with it out of the way after the loop, the
    // compiler keeps the accumulators in registers throughout.
    if (nb % 2) step<R, T, false>(p, nb - 1, acc);
    for (int64_t i = 0; i + 2 <= nb; i += 2) step<R, T, true>(p, i, acc);
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < R; ++r) p.y[t * p.y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
    }
  }
};

// ---- float weights, f32 activations ----------------------------------------------

struct F32 {
  using Elem = float;
  static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static __m512 load(const float* p, __mmask16 k) { return _mm512_maskz_loadu_ps(k, p); }
};

struct F16 {
  using Elem = fp16_t;
  static __m512 load(const fp16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load(const fp16_t* p, __mmask16 k) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p)); }
};

// bf16 is the top half of an f32.
struct BF16 {
  using Elem = bf16_t;
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 load(const bf16_t* p) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 load(const bf16_t* p, __mmask16 k) { return widen(_mm256_maskz_loadu_epi16(k, p)); }
};

template <class W>
struct FloatKernel {
  using Elem = typename W::Elem;

  // 16 elements from column i; kTail: only the first `count` of them.
  template <int R, int T, bool kTail>
  static void step(const Tile& p, int64_t i, int count, __m512 (&acc)[R][T]) {
    const __mmask16 k = kTail ? static_cast<__mmask16>((1u << count) - 1) : 0xFFFF;
    __m512 wv[R];
    for (int r = 0; r < R; ++r) {
      const Elem* w = row_blocks<Elem>(p.w, p.w_stride, r) + i;
      prefetch_ahead(w);
      wv[r] = kTail ? W::load(w, k) : W::load(w);
    }
    for (int t = 0; t < T; ++t) {
      const float* a = row_blocks<float>(p.a, p.a_stride, t) + i;
      const __m512 av = kTail ? _mm512_maskz_loadu_ps(k, a) : _mm512_loadu_ps(a);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], av, acc[r][t]);
    }
  }

  template <int R, int T>
  static void tile(const Tile& p) {
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= p.n; i += 16) step<R, T, false>(p, i, 16, acc);
    if (i < p.n) step<R, T, true>(p, i, static_cast<int>(p.n - i), acc);
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < R; ++r) p.y[t * p.y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
    }
  }
};

// Tiles of 4 rows x 4 tokens: 16 accumulators plus the per-token vectors fit
// the 32 zmm registers. Decode takes 8 rows at a time: more independent
// streams from memory, and the activations' share of the work halves
// (8192 x 2048 Q8_0: 1.2x the speed of 4 rows).
template <class K, int RD = 8>
Kernel make_kernel() {
  return {run_tile<K, 4, 4, RD>, 4, 4, RD};
}

}  // namespace

Kernel avx512_kernel(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return make_kernel<FloatKernel<F32>>();
    case GgmlType::F16:
      return make_kernel<FloatKernel<F16>>();
    case GgmlType::BF16:
      return make_kernel<FloatKernel<BF16>>();
    case GgmlType::Q4_0:
      return make_kernel<Block32Kernel<Q4_0>>();
    case GgmlType::Q4_1:
      return make_kernel<Block32Kernel<Q4_1>>();
    case GgmlType::Q5_0:
      return make_kernel<Block32Kernel<Q5_0>>();
    case GgmlType::Q5_1:
      return make_kernel<Block32Kernel<Q5_1>>();
    case GgmlType::Q8_0:
      return make_kernel<Block32Kernel<Q8_0>>();
    default:
      return avx512_kernel_k(type);
  }
}

}  // namespace gs::kern
