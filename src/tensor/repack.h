// Weight layouts that some SIMD levels multiply faster than GGUF's row after
// row, and the copies into them. A model repacks its matrices once at load
// time; matmul picks the kernel by the view's layout.
//
// kQ8_0x4 (AVX2): four Q8_0 rows interleaved block by block. With rows apart,
// each block of each row costs its own float conversion, scale and FMA per
// token; interleaved, one 32-byte load holds 8 elements of all four rows, the
// integer sums of the four rows add up exactly across the block, and the
// float work is paid once per block for four rows (~1.5x the throughput on
// batched decode, and single-token decode no longer compute-bound on one core).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/matmul.h"
#include "tensor/quants.h"

namespace gs {

// Block i of rows 4g .. 4g+3: their four scales, then 4 chunks of 32 bytes;
// chunk c holds elements [8c, 8c + 8) of row 0, then of row 1, 2 and 3.
// A group's blocks take exactly the bytes of its four rows' blocks.
struct BlockQ8_0x4 {
  fp16_t d[4];
  int8_t qs[4 * kQK];
};
static_assert(sizeof(BlockQ8_0x4) == 4 * sizeof(BlockQ8_0));

// Block i of rows 4g .. 4g+3 of Q4_0: the four scales, then the same four
// chunks as BlockQ8_0x4 as nibbles (q + 8, as Q4_0 stores them): byte k of
// qs holds byte k of chunk 0 in its low nibble and of chunk 2 in its high
// one, byte 32 + k chunk 1 and chunk 3. One load, a mask and a shift give two
// chunks.
struct BlockQ4_0x4 {
  fp16_t d[4];
  uint8_t qs[2 * kQK];
};
static_assert(sizeof(BlockQ4_0x4) == 4 * sizeof(BlockQ4_0));

// Where element e (< 32) of row r (< 4) of a group sits in its block's qs:
// a byte of BlockQ8_0x4; for BlockQ4_0x4 the low nibble of its byte when
// e < 16 (chunks 0 and 1), the high one otherwise. (Plain code only: the
// ISA-flagged kernels must not share inline functions, see kernels.h.)
inline int q8_0x4_at(int r, int e) { return 32 * (e / 8) + 8 * r + e % 8; }
inline int q4_0x4_at(int r, int e) { return 32 * (e / 8 % 2) + 8 * r + e % 8; }

// The layout `w` is best multiplied in at the active SIMD level: kQ8_0x4 or
// kQ4_0x4 for Q8_0 or Q4_0 with a multiple of 4 rows on AVX2, else kRows.
// GENSTACK_REPACK=0 keeps kRows everywhere (for comparisons, and to keep the
// weights file-backed).
WeightLayout preferred_layout(const WeightView& w);

// Copies `w` (in kRows) into `layout` at `dst`, which holds
// w.rows * row_bytes(w.type, w.cols) bytes; returns the view of the copy.
WeightView repack(const WeightView& w, WeightLayout layout, uint8_t* dst);

// Row `row` of a repacked matrix back in GGUF's layout: row_bytes(w.type,
// w.cols) bytes at `out`.
void unpack_row(const WeightView& w, int64_t row, uint8_t* out);

}  // namespace gs
