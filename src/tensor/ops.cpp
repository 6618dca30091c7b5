#include "tensor/ops.h"

#include <algorithm>
#include <cmath>

#include "tensor/cpu.h"
#include "tensor/ops_simd.h"
#include "tensor/quants.h"

namespace gs {

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  double sum = 0.0;  // double: 8k-wide rows of large activations lose bits in f32
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void rope_angles(float pos, const float* inv_freq, int64_t rope_dim, float* cos, float* sin) {
  for (int64_t i = 0; i < rope_dim / 2; ++i) {
    const float theta = pos * inv_freq[i];
    cos[i] = std::cos(theta);
    sin[i] = std::sin(theta);
  }
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, const float* cos, const float* sin,
          RopePairing pairing) {
  const int64_t half = rope_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float c = cos[i], s = sin[i];
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
  const int64_t done = active_simd() >= SimdLevel::kAvx2 ? silu_mul_avx2(gate, up, n) : 0;
  for (int64_t i = done; i < n; ++i) {
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
      const int64_t done = active_simd() >= SimdLevel::kAvx2 ? fp32_to_fp16_avx2(src, out, n) : 0;
      for (int64_t i = done; i < n; ++i) out[i] = fp32_to_fp16(src[i]);
      return;
    }
    default:
      quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n);
      return;
  }
}

}  // namespace gs
