// Internal interface between attention.cpp (API, checks, scalar code) and the
// SIMD attention kernels (attention_avx2.cpp, attention_avx512.cpp).
//
// Only plain data crosses it: the ISA-flagged files must not instantiate
// inline functions shared with other files (see kernels.h), and std::span's
// members are such functions, so the block list arrives as a pointer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/ops.h"
#include "tensor/types.h"

namespace gs::attn {

// Positions per tile of the online softmax: one tile's scores of every head
// stay in L1, and K and V rows of one tile are read from memory once.
constexpr int64_t kTile = 32;
// Query heads a SIMD kernel keeps in registers at once; larger groups run in
// several passes over each tile (the tile's rows are then in L1).
constexpr int64_t kMaxGroup = 8;

struct Job {
  int64_t n_q = 0;
  GgmlType type = GgmlType::F16;
  size_t row_stride = 0;
  int64_t offset = 0;
  int64_t block_rows = 0;
  const KvBlock* blocks = nullptr;
  int64_t head_dim = 0;
  int64_t n_pos = 0;
  // Scratch, each 64-byte aligned:
  float* qs = nullptr;    // n_q * head_dim: q * scale * log2(e), so scores are base-2 exponents
  float* acc = nullptr;   // n_q * head_dim: unnormalised outputs
  float* m = nullptr;     // n_q: running maximum score
  float* l = nullptr;     // n_q: running sum of exp2(score - m)
  float* p = nullptr;     // n_q * kTile: one tile's scores, then weights
  float* part = nullptr;  // kMaxGroup * 16 * 16: per-row partial dot products
};

// head_dim a multiple of 16; type F16, F32 or Q8_0.
void attend_avx2(const Job& job);
void attend_avx512(const Job& job);

}  // namespace gs::attn
