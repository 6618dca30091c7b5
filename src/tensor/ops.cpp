#include "tensor/ops.h"

#include <algorithm>
#include <cmath>

#include "tensor/cpu.h"
#include "tensor/quants.h"

namespace gs {
namespace simd {
void attend_f16_avx2(const float* q, const uint8_t* k, const uint8_t* v, size_t row_stride, int64_t offset,
                     int64_t head_dim, int64_t n_pos, float scale, float* scores, float* out);
}  // namespace simd

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  double sum = 0.0;  // double: 8k-wide rows of large activations lose bits in f32
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, float pos, const float* inv_freq,
          RopePairing pairing) {
  const int64_t half = rope_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float theta = pos * inv_freq[i];
    const float c = std::cos(theta), s = std::sin(theta);
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + h * head_dim;
      const int64_t a = pairing == RopePairing::kAdjacent ? 2 * i : i;
      const int64_t b = pairing == RopePairing::kAdjacent ? 2 * i + 1 : i + half;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

void silu_mul(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void store_kv_row(GgmlType type, const float* src, void* dst, int64_t n) {
  switch (type) {
    case GgmlType::F32:
      std::copy(src, src + n, static_cast<float*>(dst));
      return;
    case GgmlType::F16: {
      auto* out = static_cast<fp16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(src[i]);
      return;
    }
    default:
      quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n);
      return;
  }
}

namespace {

// Dot product of q with head_dim elements of a cached row, and its
// accumulate-into counterpart for V, per cache type.
float dot_row(GgmlType type, const uint8_t* row, int64_t offset, const float* q, int64_t n) {
  float sum = 0.0f;
  if (type == GgmlType::F16) {
    const fp16_t* k = reinterpret_cast<const fp16_t*>(row) + offset;
    for (int64_t i = 0; i < n; ++i) sum += q[i] * fp16_to_fp32(k[i]);
  } else if (type == GgmlType::F32) {
    const float* k = reinterpret_cast<const float*>(row) + offset;
    for (int64_t i = 0; i < n; ++i) sum += q[i] * k[i];
  } else {
    const BlockQ8_0* blocks = reinterpret_cast<const BlockQ8_0*>(row) + offset / kQK;
    for (int64_t b = 0; b < n / kQK; ++b) {
      float block_sum = 0.0f;
      for (int64_t i = 0; i < kQK; ++i) block_sum += q[b * kQK + i] * blocks[b].qs[i];
      sum += block_sum * fp16_to_fp32(blocks[b].d);
    }
  }
  return sum;
}

void axpy_row(GgmlType type, const uint8_t* row, int64_t offset, float weight, float* out, int64_t n) {
  if (type == GgmlType::F16) {
    const fp16_t* v = reinterpret_cast<const fp16_t*>(row) + offset;
    for (int64_t i = 0; i < n; ++i) out[i] += weight * fp16_to_fp32(v[i]);
  } else if (type == GgmlType::F32) {
    const float* v = reinterpret_cast<const float*>(row) + offset;
    for (int64_t i = 0; i < n; ++i) out[i] += weight * v[i];
  } else {
    const BlockQ8_0* blocks = reinterpret_cast<const BlockQ8_0*>(row) + offset / kQK;
    for (int64_t b = 0; b < n / kQK; ++b) {
      const float w = weight * fp16_to_fp32(blocks[b].d);
      for (int64_t i = 0; i < kQK; ++i) out[b * kQK + i] += w * blocks[b].qs[i];
    }
  }
}

}  // namespace

void attend(const float* q, const KvRows& kv, int64_t head_dim, int64_t n_pos, float scale, float* scores,
            float* out) {
  if (kv.type == GgmlType::F16 && head_dim % 8 == 0 && active_simd() >= SimdLevel::kAvx2) {
    simd::attend_f16_avx2(q, kv.k, kv.v, kv.row_stride, kv.offset, head_dim, n_pos, scale, scores, out);
    return;
  }
  float max_score = -INFINITY;
  for (int64_t p = 0; p < n_pos; ++p) {
    scores[p] = dot_row(kv.type, kv.k + p * kv.row_stride, kv.offset, q, head_dim) * scale;
    max_score = std::max(max_score, scores[p]);
  }
  float sum = 0.0f;
  for (int64_t p = 0; p < n_pos; ++p) {
    scores[p] = std::exp(scores[p] - max_score);
    sum += scores[p];
  }
  std::fill(out, out + head_dim, 0.0f);
  const float inv_sum = 1.0f / sum;
  for (int64_t p = 0; p < n_pos; ++p) {
    axpy_row(kv.type, kv.v + p * kv.row_stride, kv.offset, scores[p] * inv_sum, out, head_dim);
  }
}

size_t attend_scratch_floats(int64_t, int64_t n_pos, int64_t) { return static_cast<size_t>(n_pos); }

void attend_group(const float* q, int64_t n_q, const KvLayout& kv, int64_t head_dim, int64_t n_pos, float scale,
                  float* scratch, float* out) {
  for (int64_t h = 0; h < n_q; ++h) {
    const float* qh = q + h * head_dim;
    float* oh = out + h * head_dim;
    if (n_pos <= kv.block_rows) {
      attend(qh, KvRows{kv.type, kv.blocks[0].k, kv.blocks[0].v, kv.row_stride, kv.offset}, head_dim, n_pos, scale,
             scratch, oh);
      continue;
    }
    const auto row = [&](int64_t p, bool key) {
      const KvBlock& b = kv.blocks[static_cast<size_t>(p / kv.block_rows)];
      return (key ? b.k : b.v) + static_cast<size_t>(p % kv.block_rows) * kv.row_stride;
    };
    float max_score = -INFINITY;
    for (int64_t p = 0; p < n_pos; ++p) {
      scratch[p] = dot_row(kv.type, row(p, true), kv.offset, qh, head_dim) * scale;
      max_score = std::max(max_score, scratch[p]);
    }
    float sum = 0.0f;
    for (int64_t p = 0; p < n_pos; ++p) {
      scratch[p] = std::exp(scratch[p] - max_score);
      sum += scratch[p];
    }
    std::fill(oh, oh + head_dim, 0.0f);
    for (int64_t p = 0; p < n_pos; ++p) axpy_row(kv.type, row(p, false), kv.offset, scratch[p] / sum, oh, head_dim);
  }
}

}  // namespace gs
