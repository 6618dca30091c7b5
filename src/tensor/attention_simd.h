// The tiled grouped-query attention kernel, written once over a vector type S
// (Avx2 or Avx512 in attention_avx2.cpp / attention_avx512.cpp, which include
// this after <immintrin.h>). Everything here has internal linkage, so each of
// those files compiles its own copy for its ISA (see kernels.h on why).
//
// Per tile of kTile positions and group of up to kMaxGroup query heads:
// 1. each K row is widened once and multiplied with every head of the group;
//    the per-row partial sums are folded into one vector of scores per 16 (8)
//    rows by a transposing reduction, not one horizontal sum per row;
// 2. online softmax (as in flash attention): the running maximum m and sum l
//    of each head are updated and the tile's scores turned into weights;
// 3. each V row is widened once and added, weighted, into the group's outputs,
//    which are first rescaled by exp2(m_old - m_new).
// The scores stay in L1, and K and V rows are read from memory once per call.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/attention.h"

namespace gs::attn {
namespace {

// Row slices of the kv head for the positions of one tile.
struct TileRows {
  const uint8_t* k[kTile];
  const uint8_t* v[kTile];
  int64_t count = 0;
};

// Bytes of `n` elements of a cache row of `type`.
size_t slice_bytes(GgmlType type, int64_t n) {
  if (type == GgmlType::F16) return static_cast<size_t>(n) * 2;
  if (type == GgmlType::F32) return static_cast<size_t>(n) * 4;
  return static_cast<size_t>(n / 32) * 34;  // Q8_0: fp16 scale + 32 int8 per block
}

// Row slices of positions [start, start + count), block by block.
void fill_tile(const Job& job, size_t head_bytes, int64_t start, int64_t count, TileRows* t) {
  t->count = count;
  int64_t block = start / job.block_rows, row = start % job.block_rows;
  const uint8_t* k = job.blocks[block].k + head_bytes;
  const uint8_t* v = job.blocks[block].v + head_bytes;
  for (int64_t j = 0; j < count; ++j, ++row) {
    if (row == job.block_rows) {
      row = 0;
      ++block;
      k = job.blocks[block].k + head_bytes;
      v = job.blocks[block].v + head_bytes;
    }
    const size_t at = static_cast<size_t>(row) * job.row_stride;
    t->k[j] = k + at;
    t->v[j] = v + at;
  }
}

// Asks for every cache line of one row's K and V slices, a tile ahead: the
// hardware prefetcher does not follow a walk that touches 2-3 lines every
// row_stride bytes (a new 4 KiB page every few rows). Into L2 only (T1): a
// T0 prefetch holds one of the few L1 fill buffers for its whole trip to
// DRAM (measured: 5% slower at 4096 positions).
void prefetch_row(const uint8_t* k, const uint8_t* v, size_t bytes) {
  for (size_t o = 0; o < bytes; o += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(k + o), _MM_HINT_T1);
    _mm_prefetch(reinterpret_cast<const char*>(v + o), _MM_HINT_T1);
  }
  // A slice that does not start on a line boundary spills into one more.
  _mm_prefetch(reinterpret_cast<const char*>(k + bytes - 1), _MM_HINT_T1);
  _mm_prefetch(reinterpret_cast<const char*>(v + bytes - 1), _MM_HINT_T1);
}

// Loaders: S::kW elements from element i of a row slice, as floats.
template <class S>
struct F16Rows {
  static typename S::V load(const uint8_t* row, int64_t i) {
    return S::load_f16(reinterpret_cast<const uint16_t*>(row) + i);
  }
};
template <class S>
struct F32Rows {
  static typename S::V load(const uint8_t* row, int64_t i) {
    return S::load(reinterpret_cast<const float*>(row) + i);
  }
};
template <class S>
struct Q8Rows {  // i is a multiple of kW, which divides 32, so no load spans two blocks
  static typename S::V load(const uint8_t* row, int64_t i) {
    const uint8_t* block = row + (i / 32) * 34;
    return S::load_q8(reinterpret_cast<const int8_t*>(block + 2) + i % 32, block);
  }
};

// part[(g * W + u) * W, + W) = W partial sums of row k[u]'s dot product with
// head g's query, for R (1 or 2) rows: two rows at once share each query load
// and give the FMA units twice the independent chains. Not inlined (nor is
// add_v_rows): inside attend_rows GCC keeps exp2's constants in registers
// throughout and spills accumulators of these loops to the stack.
template <class S, class L, int G, int R>
__attribute__((noinline)) void row_scores(const uint8_t* const* k, const float* qs, int64_t hd, float* part) {
  static_assert(R == 1 || R == 2);
  using V = typename S::V;
  constexpr int64_t W = S::kW;
  V a0[G], a1[G];
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g) a0[g] = a1[g] = S::zero();
  for (int64_t i = 0; i < hd; i += W) {
    const V k0 = L::load(k[0], i);
    V k1 = k0;
    if constexpr (R == 2) k1 = L::load(k[1], i);
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g) {
      const V q = S::load(qs + g * hd + i);
      a0[g] = S::fma(q, k0, a0[g]);
      if constexpr (R == 2) a1[g] = S::fma(q, k1, a1[g]);
    }
  }
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g) {
    S::store(part + g * W * W, a0[g]);
    if constexpr (R == 2) S::store(part + g * W * W + W, a1[g]);
  }
}

// acc[g][i, i + U * W) = corr[g] * acc[g][...] + sum over the tile's rows r
// of p[g][r] * V[r][...], for the G heads of a group; U is 1 or 2 (two plain
// arrays, not a[U][G]: GCC keeps a 2-D array on the stack).
template <class S, class L, int G, int U>
__attribute__((noinline)) void add_v_rows(const TileRows& t, const float* p, const float* corr, int64_t hd,
                                          int64_t i, float* acc) {
  static_assert(U == 1 || U == 2);
  using V = typename S::V;
  constexpr int64_t W = S::kW;
  V a0[G], a1[G];
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g) {
    const V c = S::set1(corr[g]);
    a0[g] = S::mul(S::load(acc + g * hd + i), c);
    if constexpr (U == 2) a1[g] = S::mul(S::load(acc + g * hd + i + W), c);
  }
  for (int64_t r = 0; r < t.count; ++r) {
    const V v0 = L::load(t.v[r], i);
    V v1 = v0;
    if constexpr (U == 2) v1 = L::load(t.v[r], i + W);
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g) {
      const V w = S::set1(p[g * kTile + r]);
      a0[g] = S::fma(w, v0, a0[g]);
      if constexpr (U == 2) a1[g] = S::fma(w, v1, a1[g]);
    }
  }
#pragma GCC unroll 16
  for (int g = 0; g < G; ++g) {
    S::store(acc + g * hd + i, a0[g]);
    if constexpr (U == 2) S::store(acc + g * hd + i + W, a1[g]);
  }
}

// One tile for query heads [h0, h0 + G). Rows of `ahead` (the next tile, or
// null) are prefetched as the scores go, a few lines per row: a burst of a
// whole tile's prefetches at once stalls on the line fill buffers.
template <class S, class L, int G>
void tile_group(const Job& job, const TileRows& t, int64_t h0, const TileRows* ahead, size_t bytes) {
  using V = typename S::V;
  constexpr int64_t W = S::kW;
  const int64_t hd = job.head_dim, n = t.count;
  const float* qs = job.qs + h0 * hd;
  float* acc = job.acc + h0 * hd;
  float* p = job.p + h0 * kTile;
  float* part = job.part;

  // 1. Scores: part[g][r] holds W partial sums of row r for head g.
  for (int64_t j0 = 0; j0 < n; j0 += W) {
    const int64_t rows = n - j0 < W ? n - j0 : W;
    constexpr int R = G <= 4 ? 2 : 1;
    int64_t r = 0;
    for (; r + R <= rows; r += R) {
      for (int u = 0; u < R; ++u)
        if (ahead && j0 + r + u < ahead->count)
          prefetch_row(ahead->k[j0 + r + u], ahead->v[j0 + r + u], bytes);
      row_scores<S, L, G, R>(t.k + j0 + r, qs, hd, part + r * W);
    }
    for (; r < rows; ++r) {
      if (ahead && j0 + r < ahead->count) prefetch_row(ahead->k[j0 + r], ahead->v[j0 + r], bytes);
      row_scores<S, L, G, 1>(t.k + j0 + r, qs, hd, part + r * W);
    }
    for (int64_t r = rows; r < W; ++r) {  // finite values in the unused lanes
#pragma GCC unroll 16
      for (int g = 0; g < G; ++g) S::store(part + (g * W + r) * W, S::zero());
    }
#pragma GCC unroll 16
    for (int g = 0; g < G; ++g) S::store(p + g * kTile + j0, S::sum_rows(part + g * W * W));
  }

  // 2. Online softmax.
  float corr[G];
  for (int g = 0; g < G; ++g) {
    float* ph = p + g * kTile;
    V mx = S::set1(-__builtin_inff());
    for (int64_t j0 = 0; j0 < n; j0 += W)
      mx = S::max(mx, S::keep_first(S::load(ph + j0), n - j0, -__builtin_inff()));
    const float m_old = job.m[h0 + g];
    const float m_tile = S::hmax(mx);
    const float m_new = m_tile > m_old ? m_tile : m_old;
    // exp2(-inf) is 0 at the first tile: acc and l are still zero then anyway.
    corr[g] = S::first(S::exp2(S::set1(m_old - m_new)));
    const V mv = S::set1(m_new);
    V sum = S::zero();
    for (int64_t j0 = 0; j0 < n; j0 += W) {
      const V e = S::keep_first(S::exp2(S::sub(S::load(ph + j0), mv)), n - j0, 0.0f);
      sum = S::add(sum, e);
      S::store(ph + j0, e);
    }
    job.l[h0 + g] = job.l[h0 + g] * corr[g] + S::hsum(sum);
    job.m[h0 + g] = m_new;
  }

  // 3. Weighted V rows: each accumulator is a chain of n dependent FMAs, so a
  // small group takes two chunks of W elements at once to keep enough chains
  // in flight for the FMA units.
  constexpr int U = G <= 4 ? 2 : 1;
  const int64_t wide = hd - hd % (U * W);
  for (int64_t i = 0; i < wide; i += U * W) add_v_rows<S, L, G, U>(t, p, corr, hd, i, acc);
  for (int64_t i = wide; i < hd; i += W) add_v_rows<S, L, G, 1>(t, p, corr, hd, i, acc);
}

template <class S, class L>
void tile_heads(const Job& job, const TileRows& t, const TileRows* ahead, size_t bytes) {
  for (int64_t h0 = 0; h0 < job.n_q; h0 += kMaxGroup) {
    const TileRows* pf = h0 == 0 ? ahead : nullptr;  // later groups find the rows in L1
    switch (job.n_q - h0 < kMaxGroup ? job.n_q - h0 : kMaxGroup) {
      case 1:
        tile_group<S, L, 1>(job, t, h0, pf, bytes);
        break;
      case 2:
        tile_group<S, L, 2>(job, t, h0, pf, bytes);
        break;
      case 3:
        tile_group<S, L, 3>(job, t, h0, pf, bytes);
        break;
      case 4:
        tile_group<S, L, 4>(job, t, h0, pf, bytes);
        break;
      case 5:
        tile_group<S, L, 5>(job, t, h0, pf, bytes);
        break;
      case 6:
        tile_group<S, L, 6>(job, t, h0, pf, bytes);
        break;
      case 7:
        tile_group<S, L, 7>(job, t, h0, pf, bytes);
        break;
      default:
        tile_group<S, L, 8>(job, t, h0, pf, bytes);
        break;
    }
  }
}

// Tiles in order, two row lists in turn: this tile's and the next one's.
template <class S, class L>
void attend_rows(const Job& job) {
  static_assert(kMaxGroup == 8 && kTile % 16 == 0);
  const size_t bytes = slice_bytes(job.type, job.head_dim);
  const size_t head_bytes = slice_bytes(job.type, job.offset);
  const int64_t n_tiles = (job.n_pos + kTile - 1) / kTile;
  auto tile_at = [&](int64_t i, TileRows* t) {
    const int64_t start = i * kTile;
    fill_tile(job, head_bytes, start, job.n_pos - start < kTile ? job.n_pos - start : kTile, t);
  };
  TileRows tiles[2];
  tile_at(0, &tiles[0]);
  for (int64_t i = 0; i < n_tiles; ++i) {
    const TileRows* ahead = nullptr;
    if (i + 1 < n_tiles) {
      tile_at(i + 1, &tiles[(i + 1) & 1]);
      ahead = &tiles[(i + 1) & 1];
    }
    tile_heads<S, L>(job, tiles[i & 1], ahead, bytes);
  }
}

template <class S>
void attend_any(const Job& job) {
  if (job.type == GgmlType::F16) {
    attend_rows<S, F16Rows<S>>(job);
  } else if (job.type == GgmlType::F32) {
    attend_rows<S, F32Rows<S>>(job);
  } else {
    attend_rows<S, Q8Rows<S>>(job);
  }
}

}  // namespace
}  // namespace gs::attn
