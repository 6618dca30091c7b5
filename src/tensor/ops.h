// The element-wise and attention steps of a transformer layer, on f32
// activations. Matrix products are in matmul.h.
#pragma once

#include <cstdint>

#include "tensor/types.h"

namespace gs {

// out = x / sqrt(mean(x^2) + eps) * weight
void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps);

// Rotates the first rope_dim dims of each of n_heads vectors of head_dim
// floats by position `pos`. inv_freq[i] is the angle per position of pair i.
enum class RopePairing { kAdjacent, kHalves };  // (2i, 2i+1) llama; (i, i + d/2) NeoX
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, float pos, const float* inv_freq,
          RopePairing pairing);

// gate = silu(gate) * up, elementwise.
void silu_mul(float* gate, const float* up, int64_t n);

// x += y
void add(float* x, const float* y, int64_t n);

// Converts a row of f32 to the KV cache type (F32, F16 or Q8_0) and back.
void store_kv_row(GgmlType type, const float* src, void* dst, int64_t n);

// One query head against n_pos cached positions: out = softmax(q.K^T * scale) V.
// Row p of K (V) starts at k + p * row_stride bytes; the head's slice begins
// `offset` elements into the row (a multiple of 32 for Q8_0). `scores` holds
// n_pos floats of scratch.
struct KvRows {
  GgmlType type;
  const uint8_t* k;
  const uint8_t* v;
  size_t row_stride;
  int64_t offset;
};
void attend(const float* q, const KvRows& kv, int64_t head_dim, int64_t n_pos, float scale, float* scores,
            float* out);

}  // namespace gs
