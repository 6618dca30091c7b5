// The element-wise and attention steps of a transformer layer, on f32
// activations. Matrix products are in matmul.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tensor/types.h"

namespace gs {

// out = x / sqrt(mean(x^2) + eps) * weight
void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps);

// Rotary position embedding. Pair i of position `pos` turns by the angle
// pos * inv_freq[i]; rope_angles gives its cosine and sine for the
// rope_dim / 2 pairs (once per token: every layer's q and k reuse them), and
// rope rotates the first rope_dim dims of each of n_heads vectors of
// head_dim floats by them.
enum class RopePairing { kAdjacent, kHalves };  // (2i, 2i+1) llama; (i, i + d/2) NeoX
void rope_angles(float pos, const float* inv_freq, int64_t rope_dim, float* cos, float* sin);
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, const float* cos, const float* sin,
          RopePairing pairing);

// gate = silu(gate) * up, elementwise.
void silu_mul(float* gate, const float* up, int64_t n);

// x += y
void add(float* x, const float* y, int64_t n);

// Converts a row of f32 to the KV cache type (F32, F16 or Q8_0) and back.
void store_kv_row(GgmlType type, const float* src, void* dst, int64_t n);

// Cached K/V rows live in blocks of `block_rows` positions: position p of a
// sequence is row (p % block_rows) of blocks[p / block_rows]. The head's
// slice of row r starts `offset` elements (as bytes of `type`) plus
// r * row_stride bytes into the block: KvCache stores each head's rows of
// all blocks together (row_stride = one slice, offset = head * n_blocks *
// block_rows slices); a cache of whole rows has row_stride = all heads,
// offset = head * head_dim.
struct KvBlock {
  const uint8_t* k;
  const uint8_t* v;
};
struct KvLayout {
  GgmlType type;  // F16, F32 or Q8_0
  size_t row_stride;
  int64_t offset;      // multiple of 32 for Q8_0
  int64_t block_rows;  // > 0; a single contiguous cache is one block of n_ctx rows
  std::span<const KvBlock> blocks;
};

// n_q query heads that share one kv head (grouped-query attention), stored one
// after another in q (n_q * head_dim floats), each against positions [0, n_pos):
// out[h] = softmax(q[h] . K^T * scale) V, written to out (n_q * head_dim floats).
// out may be q itself. head_dim must be a multiple of 32 for Q8_0; the SIMD
// paths take multiples of 16 (other sizes run the scalar code). n_pos == 0
// gives zeros.
// scratch: attend_scratch_floats(n_q, n_pos, head_dim) floats, per calling thread.
void attend_group(const float* q, int64_t n_q, const KvLayout& kv, int64_t head_dim, int64_t n_pos,
                  float scale, float* scratch, float* out);
// The scores never leave a small tile (online softmax), so this does not grow
// with n_pos.
size_t attend_scratch_floats(int64_t n_q, int64_t n_pos, int64_t head_dim);

}  // namespace gs
