// AVX2 kernels for weights interleaved four rows at a time (kQ8_0x4 and
// kQ4_0x4, tensor/repack.h) times Q8_0 activations.
//
// A 32-byte chunk of a group's block holds elements [8c, 8c + 8) of each of
// its four rows. The token's same 8 activations, broadcast to the four
// quarters, are multiplied with vpmaddubsw and widened with vpmaddwd into
// int32 sums [r0 r0 r1 r1 r2 r2 r3 r3] that add up exactly over the block's
// four chunks. The conversion to float, the scale and the FMA then come once
// per block for four rows.
//
// Q8_0 weights are signed and reach 127 * 127 per product: they use the sign
// trick of kernels_avx2.cpp (|w| times a with w's sign) and widen each chunk.
// Q4_0 nibbles are unsigned and small (q + 8 <= 15), so the four chunks' int16
// sums cannot overflow (4 * 2 * 15 * 127 < 2^15) and are widened once; the
// offset comes back out as 8 * sum(a), per token and block from matmul.
#include <cstdint>

#include "tensor/kernels.h"
#include "tensor/repack.h"

namespace gs::kern {
namespace {

__m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

template <class Block>
const Block* group_blocks(const Tile& p, int g) {
  return reinterpret_cast<const Block*>(p.w + static_cast<size_t>(4 * g) * p.w_stride);
}

// Token t's activations [8c, 8c + 8) of block i in all four quarters.
__m256i chunk_of(const Tile& p, int t, int64_t i, int c) {
  int64_t eight;
  __builtin_memcpy(&eight, row_blocks<BlockQ8_0>(p.a, p.a_stride, t)[i].qs + 8 * c, 8);
  return _mm256_set1_epi64x(eight);
}

struct Q8_0x4 {
  using Block = BlockQ8_0x4;

  template <int T>
  static void block_sums(const Tile& p, const Block& w, int64_t i, __m256i* isum) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int c = 0; c < 4; ++c) {
      const __m256i wq = load32(w.qs + 32 * c);
      const __m256i w_abs = _mm256_sign_epi8(wq, wq);
      for (int t = 0; t < T; ++t) {
        const __m256i prod = _mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(chunk_of(p, t, i, c), wq));
        const __m256i sum = _mm256_madd_epi16(prod, ones);
        isum[t] = c == 0 ? sum : _mm256_add_epi32(isum[t], sum);
      }
    }
  }
};

struct Q4_0x4 {
  using Block = BlockQ4_0x4;

  template <int T>
  static void block_sums(const Tile& p, const Block& w, int64_t i, __m256i* isum) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i x01 = load32(w.qs), x23 = load32(w.qs + 32);
    const __m256i chunk[4] = {_mm256_and_si256(x01, low), _mm256_and_si256(x23, low),
                              _mm256_and_si256(_mm256_srli_epi16(x01, 4), low),
                              _mm256_and_si256(_mm256_srli_epi16(x23, 4), low)};
    const int64_t nb = p.n / kQK;
    for (int t = 0; t < T; ++t) {
      __m256i s16 = _mm256_maddubs_epi16(chunk[0], chunk_of(p, t, i, 0));
      for (int c = 1; c < 4; ++c)
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(chunk[c], chunk_of(p, t, i, c)));
      int64_t offset;  // 8 * sum(a) over the lanes' elements, for both lanes of a row
      __builtin_memcpy(&offset, p.a_sum + 2 * (t * nb + i), 8);
      isum[t] = _mm256_sub_epi32(_mm256_madd_epi16(s16, _mm256_set1_epi16(1)), _mm256_set1_epi64x(offset));
    }
  }
};

// Rows [0, 4G) and tokens [0, T) of the tile.
template <class F, int G, int T>
void tile(const Tile& p) {
  using Block = typename F::Block;
  const int64_t nb = p.n / kQK;
  const __m256i pair_of_each = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
  __m256 acc[G][T];
  for (int g = 0; g < G; ++g) {
    for (int t = 0; t < T; ++t) acc[g][t] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i) {
    __m256i isum[G][T];
    for (int g = 0; g < G; ++g) {
      const Block& w = group_blocks<Block>(p, g)[i];
      prefetch_ahead(&w);  // a block spans two or three lines: ask for all
      prefetch_ahead(reinterpret_cast<const uint8_t*>(&w) + 64);
      F::template block_sums<T>(p, w, i, isum[g]);
    }
    for (int g = 0; g < G; ++g) {
      const Block& w = group_blocks<Block>(p, g)[i];
      const __m128 d4 = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w.d)));
      const __m256 wd = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d4), pair_of_each);
      for (int t = 0; t < T; ++t) {
        const __m256 ad = _mm256_broadcast_ss(p.a_d + t * nb + i);
        acc[g][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[g][t]), _mm256_mul_ps(wd, ad), acc[g][t]);
      }
    }
  }
  for (int g = 0; g < G; ++g) {
    for (int t = 0; t < T; ++t) {
      // [r0 r0 r1 r1 | r2 r2 r3 r3] -> [r0 r1 . . | r2 r3 . .] -> [r0 r1 r2 r3]
      const __m256 pairs = _mm256_hadd_ps(acc[g][t], acc[g][t]);
      const __m128d lo = _mm_castps_pd(_mm256_castps256_ps128(pairs));
      const __m128d hi = _mm_castps_pd(_mm256_extractf128_ps(pairs, 1));
      _mm_storeu_ps(p.y + t * p.y_stride + 4 * g, _mm_castpd_ps(_mm_unpacklo_pd(lo, hi)));
    }
  }
}

// Rows [4g, 4g + 4G) of p, every token, four at a time.
template <class F, int G>
void groups_all_tokens(const Tile& p, int g) {
  const Tile s = sub_tile(p, 4 * g, 4 * G, 0, p.nt);
  int t = 0;
  for (; t + 4 <= s.nt; t += 4) tile<F, G, 4>(sub_tile(s, 0, 4 * G, t, 4));
  switch (s.nt - t) {
    case 3:
      tile<F, G, 3>(sub_tile(s, 0, 4 * G, t, 3));
      break;
    case 2:
      tile<F, G, 2>(sub_tile(s, 0, 4 * G, t, 2));
      break;
    case 1:
      tile<F, G, 1>(sub_tile(s, 0, 4 * G, t, 1));
      break;
    default:
      break;
  }
}

// Decode takes two groups a tile (the token's activations loaded once for
// eight rows); batches one group and up to four tokens.
template <class F>
void run(const Tile& p) {
  const int n_groups = p.nr / 4;
  int g = 0;
  if (p.nt == 1) {
    for (; g + 2 <= n_groups; g += 2) groups_all_tokens<F, 2>(p, g);
  }
  for (; g < n_groups; ++g) groups_all_tokens<F, 1>(p, g);
}

}  // namespace

Kernel avx2_kernel_q8_0x4() { return {run<Q8_0x4>, 4, 4, 8, /*f32_scales=*/true}; }
Kernel avx2_kernel_q4_0x4() { return {run<Q4_0x4>, 4, 4, 8, /*f32_scales=*/true, /*act_sums=*/true}; }

}  // namespace gs::kern
