// Internal interface between matmul.cpp and the dot-product kernels, one set
// per SIMD level (kernels_scalar.cpp, kernels_avx2*.cpp, kernels_avx512*.cpp).
//
// A kernel computes one tile of the product: a few weight rows times a few
// activation rows (tokens). Working on a tile lets each weight block be
// unpacked once and used for every token of the tile, which is what makes
// prompt processing faster than one matrix-vector product per token.
//
// Files compiled with ISA flags must not call inline functions defined in
// other headers: the linker keeps one copy of each inline function, and it
// may pick the copy compiled with AVX-512 for a caller on a lesser CPU. So
// the helpers here have internal linkage (anonymous namespace).
#pragma once

// GCC 12's AVX-512 intrinsics trip -Wmaybe-uninitialized on their own
// _mm512_undefined_*() placeholders (GCC bug 105593); silence that for the
// intrinsics header only. Kernel files include it through here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstddef>
#include <cstdint>

#include "tensor/quants.h"
#include "tensor/types.h"

namespace gs::kern {

// y[t * y_stride + r] = dot(weight row r, activation row t) for r < nr, t < nt.
struct Tile {
  int64_t n = 0;               // elements per row
  const uint8_t* w = nullptr;  // weight row 0
  size_t w_stride = 0;         // bytes from one weight row to the next
  int nr = 0;                  // rows in this tile
  const uint8_t* a = nullptr;  // activation row 0, already in the dot type
  size_t a_stride = 0;         // bytes from one activation row to the next
  int nt = 0;                  // tokens in this tile
  float* y = nullptr;
  int64_t y_stride = 0;  // floats from one token's outputs to the next
  // With Kernel::f32_scales and Q8_0 activations: token t's block scales as
  // f32 at a_d + t * (n / kQK) (a broadcast from memory instead of a
  // conversion per block, row group and token); null otherwise.
  const float* a_d = nullptr;
  // With Kernel::act_sums (kQ4_0x4): for token t and block i, at
  // a_sum + 2 * (t * (n / kQK) + i), 8 * the sum of the activations
  // 8c + 4h .. 8c + 4h + 3 over c < 4, for h = 0 and 1 (the Q4_0 offset
  // taken back out of the two int32 lanes of each row).
  const int32_t* a_sum = nullptr;
};

using TileFn = void (*)(const Tile&);

// A kernel and the largest tiles it takes: rows x tokens, or decode_rows x 1
// (callers pass nr <= rows, nt <= tokens; or nt = 1, nr <= decode_rows).
struct Kernel {
  TileFn fn = nullptr;
  int rows = 1;
  int tokens = 1;
  int decode_rows = 1;
  bool f32_scales = false;  // reads Tile::a_d
  bool act_sums = false;    // reads Tile::a_sum
};

// The kernel for weights of `type` at each level; fn is null where that level
// has no kernel for the type (the caller then falls back a level). The scalar
// level covers every type matmul supports.
Kernel scalar_kernel(GgmlType type);
Kernel avx2_kernel(GgmlType type);
Kernel avx512_kernel(GgmlType type);
// The K formats' SIMD kernels, in their own files (kernels_k_*.cpp).
Kernel avx2_kernel_k(GgmlType type);
Kernel avx512_kernel_k(GgmlType type);

// Kernels for Q8_0 weights in the kQ8_0x4 layout (tensor/repack.h): Tile::w
// is the first row of a group of four, w_stride the bytes of one row, and nr
// a multiple of 4.
Kernel scalar_kernel_q8_0x4();
Kernel avx2_kernel_q8_0x4();
// The same for Q4_0 in kQ4_0x4.
Kernel scalar_kernel_q4_0x4();
Kernel avx2_kernel_q4_0x4();

// The activation format a weight type is multiplied with: Q8_0, Q8_1, Q8_K,
// or F32 (activations used as they are).
GgmlType dot_type(GgmlType weight);

// SIMD activation quantizers, bit-identical to the scalar ones in quants_act.cpp.
void quantize_row_q8_0_avx2(const float* src, BlockQ8_0* dst, int64_t n);
void quantize_row_q8_1_avx2(const float* src, BlockQ8_1* dst, int64_t n);
void quantize_row_q8_K_avx2(const float* src, BlockQ8_K* dst, int64_t n);
void quantize_row_q8_0_avx512(const float* src, BlockQ8_0* dst, int64_t n);
void quantize_row_q8_1_avx512(const float* src, BlockQ8_1* dst, int64_t n);
void quantize_row_q8_K_avx512(const float* src, BlockQ8_K* dst, int64_t n);

namespace {

// Decode reads every weight once, from DRAM. The hardware prefetcher alone
// leaves one core far short of the memory bandwidth (it does not run far
// enough ahead), so the kernels also ask for the line this far ahead of each
// weight row they read. Measured on 8192 x 2048 decode: 8-16 KiB gives Q4_K
// 1.6x and Q8_0 1.5x the speed without; less than 4 KiB gives much less.
constexpr int kPrefetchBytes = 16384;

[[maybe_unused]] void prefetch_ahead(const void* p) {
  _mm_prefetch(static_cast<const char*>(p) + kPrefetchBytes, _MM_HINT_T0);
}

// The sub-tile of rows [r, r + nr) and tokens [t, t + nt) of `p`.
[[maybe_unused]] Tile sub_tile(const Tile& p, int r, int nr, int t, int nt) {
  Tile s = p;
  s.w = p.w + static_cast<size_t>(r) * p.w_stride;
  s.nr = nr;
  s.a = p.a + static_cast<size_t>(t) * p.a_stride;
  s.nt = nt;
  s.y = p.y + t * p.y_stride + r;
  return s;
}

// Runs a tile of any nr <= R, nt <= T (or nr <= RD, nt = 1) with K::tile
// instantiated only for the shapes R x T, RD x 1, R x 1, 1 x T and 1 x 1:
// fixed shapes let the compiler keep every accumulator in a register.
// Partial tiles only occur at the edges.
template <class K, int R, int T, int RD = R>
void run_tile(const Tile& p) {
  if (p.nt == 1 && p.nr == RD) {
    K::template tile<RD, 1>(p);
  } else if (p.nr == R && p.nt == T) {
    K::template tile<R, T>(p);
  } else if (p.nr == R) {
    for (int t = 0; t < p.nt; ++t) K::template tile<R, 1>(sub_tile(p, 0, R, t, 1));
  } else if (p.nt == T) {
    for (int r = 0; r < p.nr; ++r) K::template tile<1, T>(sub_tile(p, r, 1, 0, T));
  } else {
    for (int r = 0; r < p.nr; ++r) {
      for (int t = 0; t < p.nt; ++t) K::template tile<1, 1>(sub_tile(p, r, 1, t, 1));
    }
  }
}

// Block `i` of row `r` (weights) or token `t` (activations) of a tile.
template <class Block>
const Block* row_blocks(const uint8_t* base, size_t stride, int r) {
  return reinterpret_cast<const Block*>(base + static_cast<size_t>(r) * stride);
}

// The 6-bit scales of Q3_K (16 of them, stored biased by 32): low 4 bits in
// scales[0..7] (two per byte), high 2 bits in scales[8..11] (four per byte).
[[maybe_unused]] int q3k_scale(const uint8_t* s, int j) {
  const int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
  const int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
  return (lo | (hi << 4)) - 32;
}

// Q4_K / Q5_K: 8 6-bit scales and 8 6-bit mins in 12 bytes. The first four of
// each are the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); the last
// four take their low 4 bits from bytes 8..11 and their top 2 bits from the
// spare top bits of bytes 0..7.
[[maybe_unused]] void q4k_scales_mins(const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    mn[j] = s[j + 4] & 63;
    sc[j + 4] = (s[j + 8] & 0xF) | ((s[j] >> 6) << 4);
    mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
  }
}

// The same for all eight at once, as bytes of a uint64_t (scale j in byte j).
[[maybe_unused]] void q4k_scales_mins_u64(const uint8_t* s, uint64_t* sc, uint64_t* mn) {
  uint32_t u[3];
  __builtin_memcpy(u, s, 12);
  const uint32_t sc_lo = u[0] & 0x3F3F3F3F, mn_lo = u[1] & 0x3F3F3F3F;
  const uint32_t sc_hi = (u[2] & 0x0F0F0F0F) | (((u[0] >> 6) & 0x03030303) << 4);
  const uint32_t mn_hi = ((u[2] >> 4) & 0x0F0F0F0F) | (((u[1] >> 6) & 0x03030303) << 4);
  *sc = sc_lo | (uint64_t{sc_hi} << 32);
  *mn = mn_lo | (uint64_t{mn_hi} << 32);
}

// Q3_K's 16 scales, biased by 32 as stored: scale j in byte j of lo (j < 8)
// or hi (j >= 8).
[[maybe_unused]] void q3k_scales_u64(const uint8_t* s, uint64_t* lo, uint64_t* hi) {
  uint64_t nib;
  uint32_t top;
  __builtin_memcpy(&nib, s, 8);
  __builtin_memcpy(&top, s + 8, 4);
  const uint64_t m4 = 0x0F0F0F0F0F0F0F0F, m2 = 0x03030303;
  const uint64_t top_lo = (top & m2) | (uint64_t{(top >> 2) & m2} << 32);         // scales 0-7
  const uint64_t top_hi = ((top >> 4) & m2) | (uint64_t{(top >> 6) & m2} << 32);  // scales 8-15
  *lo = (nib & m4) | (top_lo << 4);
  *hi = ((nib >> 4) & m4) | (top_hi << 4);
}

}  // namespace
}  // namespace gs::kern
