// Portable dot products: the reference the SIMD kernels are tested against,
// and the fallback for CPUs without AVX2. One function per weight type, each
// a direct transcription of the block format: integer sums inside a block,
// the block's float scales applied once per block.
#include <cstdint>
#include <type_traits>

#include "tensor/kernels.h"
#include "tensor/repack.h"

namespace gs::kern {
namespace {

float h2f(fp16_t h) { return fp16_to_fp32(h); }

// ---- f32 activations ----------------------------------------------------

float dot_f32(int64_t n, const void* wv, const void* av) {
  const float* w = static_cast<const float*>(wv);
  const float* a = static_cast<const float*>(av);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += w[i] * a[i];
  return sum;
}

float dot_f16(int64_t n, const void* wv, const void* av) {
  const fp16_t* w = static_cast<const fp16_t*>(wv);
  const float* a = static_cast<const float*>(av);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += h2f(w[i]) * a[i];
  return sum;
}

float dot_bf16(int64_t n, const void* wv, const void* av) {
  const bf16_t* w = static_cast<const bf16_t*>(wv);
  const float* a = static_cast<const float*>(av);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += bf16_to_fp32(w[i]) * a[i];
  return sum;
}

// ---- 32-element blocks ----------------------------------------------------
// Q4_0 and Q5_0 store q + offset (8, 16) unsigned; the dot of a block is
// sum((q - offset) * a) * dw * da. Q4_1 and Q5_1 instead add a per-block min
// m, so their dot is sum(q * a) * dw * da + m * s, with s = da * sum(a) stored
// in the Q8_1 activation block.

float dot_q4_0(int64_t n, const void* wv, const void* av) {
  const BlockQ4_0* w = static_cast<const BlockQ4_0*>(wv);
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      isum += ((w[b].qs[j] & 0xF) - 8) * a[b].qs[j];
      isum += ((w[b].qs[j] >> 4) - 8) * a[b].qs[j + kQK / 2];
    }
    sum += static_cast<float>(isum) * h2f(w[b].d) * h2f(a[b].d);
  }
  return sum;
}

float dot_q4_1(int64_t n, const void* wv, const void* av) {
  const BlockQ4_1* w = static_cast<const BlockQ4_1*>(wv);
  const BlockQ8_1* a = static_cast<const BlockQ8_1*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      isum += (w[b].qs[j] & 0xF) * a[b].qs[j];
      isum += (w[b].qs[j] >> 4) * a[b].qs[j + kQK / 2];
    }
    sum += static_cast<float>(isum) * h2f(w[b].d) * h2f(a[b].d) + h2f(w[b].m) * h2f(a[b].s);
  }
  return sum;
}

// Bit j of the 32-bit qh is the fifth bit of element j.
uint32_t load_qh(const uint8_t* qh) { return qh[0] | (qh[1] << 8) | (qh[2] << 16) | (uint32_t{qh[3]} << 24); }

float dot_q5_0(int64_t n, const void* wv, const void* av) {
  const BlockQ5_0* w = static_cast<const BlockQ5_0*>(wv);
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint32_t qh = load_qh(w[b].qh);
    int32_t isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (w[b].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int hi = (w[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      isum += (lo - 16) * a[b].qs[j] + (hi - 16) * a[b].qs[j + kQK / 2];
    }
    sum += static_cast<float>(isum) * h2f(w[b].d) * h2f(a[b].d);
  }
  return sum;
}

float dot_q5_1(int64_t n, const void* wv, const void* av) {
  const BlockQ5_1* w = static_cast<const BlockQ5_1*>(wv);
  const BlockQ8_1* a = static_cast<const BlockQ8_1*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint32_t qh = load_qh(w[b].qh);
    int32_t isum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (w[b].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int hi = (w[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      isum += lo * a[b].qs[j] + hi * a[b].qs[j + kQK / 2];
    }
    sum += static_cast<float>(isum) * h2f(w[b].d) * h2f(a[b].d) + h2f(w[b].m) * h2f(a[b].s);
  }
  return sum;
}

float dot_q8_0(int64_t n, const void* wv, const void* av) {
  const BlockQ8_0* w = static_cast<const BlockQ8_0*>(wv);
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < kQK; ++j) isum += w[b].qs[j] * a[b].qs[j];
    sum += static_cast<float>(isum) * h2f(w[b].d) * h2f(a[b].d);
  }
  return sum;
}

// ---- 256-element super-blocks (K formats) -----------------------------------
// Each super-block has sub-blocks with small integer scales (and for Q2_K,
// Q4_K, Q5_K, mins) under one or two fp16 factors d, dmin. The dot is
//   da * (d * sum_k(scale_k * sum(q * a over sub-block k))
//         - dmin * sum_k(min_k * sum(a over sub-block k)))
// where the activation sums come from the Q8_K bsums (one per 16 elements).

float dot_q2_k(int64_t n, const void* wv, const void* av) {
  const BlockQ2_K* w = static_cast<const BlockQ2_K*>(wv);
  const BlockQ8_K* a = static_cast<const BlockQ8_K*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0, msum = 0;
    for (int k = 0; k < 16; ++k) {  // sub-blocks of 16
      int32_t dot = 0;
      for (int e = 16 * k; e < 16 * k + 16; ++e) {
        // Each half of 128 elements packs four 2-bit planes of 32 into 32 bytes.
        const int half = e / 128, plane = (e % 128) / 32, l = e % 32;
        const int q = (w[b].qs[32 * half + l] >> (2 * plane)) & 3;
        dot += q * a[b].qs[e];
      }
      isum += (w[b].scales[k] & 0xF) * dot;
      msum += (w[b].scales[k] >> 4) * a[b].bsums[k];
    }
    sum += a[b].d * (h2f(w[b].d) * static_cast<float>(isum) - h2f(w[b].dmin) * static_cast<float>(msum));
  }
  return sum;
}

float dot_q3_k(int64_t n, const void* wv, const void* av) {
  const BlockQ3_K* w = static_cast<const BlockQ3_K*>(wv);
  const BlockQ8_K* a = static_cast<const BlockQ8_K*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0;
    for (int k = 0; k < 16; ++k) {
      int32_t dot = 0;
      for (int e = 16 * k; e < 16 * k + 16; ++e) {
        // Low 2 bits as in Q2_K; a clear bit in hmask subtracts 4.
        const int half = e / 128, plane = (e % 128) / 32, l = e % 32;
        const int lo = (w[b].qs[32 * half + l] >> (2 * plane)) & 3;
        const int high = (w[b].hmask[l] >> (4 * half + plane)) & 1;
        dot += (lo - (high ? 0 : 4)) * a[b].qs[e];
      }
      isum += q3k_scale(w[b].scales, k) * dot;
    }
    sum += a[b].d * h2f(w[b].d) * static_cast<float>(isum);
  }
  return sum;
}

// Q4_K and Q5_K: sub-blocks of 32; each 64 elements take 32 bytes of qs, the
// first 32 elements from the low nibbles, the next 32 from the high nibbles.
// Q5_K's fifth bit of element l of sub-block k is bit k of qh[l].
template <bool kFive>
float dot_q45_k(int64_t n, const void* wv, const void* av) {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  const Block* w = static_cast<const Block*>(wv);
  const BlockQ8_K* a = static_cast<const BlockQ8_K*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    uint8_t sc[8], mn[8];
    q4k_scales_mins(w[b].scales, sc, mn);
    int32_t isum = 0, msum = 0;
    for (int k = 0; k < 8; ++k) {
      int32_t dot = 0;
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = w[b].qs[32 * (k / 2) + l];
        int q = (k % 2 == 0) ? (byte & 0xF) : (byte >> 4);
        if constexpr (kFive) q |= ((w[b].qh[l] >> k) & 1) << 4;
        dot += q * a[b].qs[32 * k + l];
      }
      isum += sc[k] * dot;
      msum += mn[k] * (a[b].bsums[2 * k] + a[b].bsums[2 * k + 1]);
    }
    sum += a[b].d * (h2f(w[b].d) * static_cast<float>(isum) - h2f(w[b].dmin) * static_cast<float>(msum));
  }
  return sum;
}

float dot_q6_k(int64_t n, const void* wv, const void* av) {
  const BlockQ6_K* w = static_cast<const BlockQ6_K*>(wv);
  const BlockQ8_K* a = static_cast<const BlockQ8_K*>(av);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t isum = 0;
    for (int k = 0; k < 16; ++k) {
      int32_t dot = 0;
      for (int e = 16 * k; e < 16 * k + 16; ++e) {
        // Each half of 128 elements: 64 bytes of low nibbles (elements l and
        // l + 32 in the low nibbles of ql[l], ql[l + 32]; l + 64 and l + 96
        // in the high nibbles) and 32 bytes of 2-bit high parts (four per qh[l]).
        const int half = e / 128, quarter = (e % 128) / 32, l = e % 32;
        const uint8_t low = w[b].ql[64 * half + 32 * (quarter & 1) + l];
        const int nib = quarter < 2 ? (low & 0xF) : (low >> 4);
        const int high = (w[b].qh[32 * half + l] >> (2 * quarter)) & 3;
        dot += ((nib | (high << 4)) - 32) * a[b].qs[e];
      }
      isum += w[b].scales[k] * dot;
    }
    sum += a[b].d * h2f(w[b].d) * static_cast<float>(isum);
  }
  return sum;
}

// ---- tiles ------------------------------------------------------------------

using DotFn = float (*)(int64_t n, const void* w, const void* a);

template <DotFn kDot>
void scalar_tile(const Tile& p) {
  for (int t = 0; t < p.nt; ++t) {
    for (int r = 0; r < p.nr; ++r) {
      p.y[t * p.y_stride + r] = kDot(p.n, p.w + r * p.w_stride, p.a + t * p.a_stride);
    }
  }
}

// Weight e of row r in a block of a group of four interleaved rows
// (tensor/repack.h): chunk c = e / 8 holds elements 8c .. 8c + 7 of each row.
int q8_0x4_weight(const BlockQ8_0x4& b, int r, int e) { return b.qs[q8_0x4_at(r, e)]; }
int q4_0x4_weight(const BlockQ4_0x4& b, int r, int e) {
  const uint8_t byte = b.qs[q4_0x4_at(r, e)];
  return (e < 16 ? byte & 0xF : byte >> 4) - 8;
}

template <class Block, int (*kWeight)(const Block&, int, int)>
void scalar_tile_x4(const Tile& p) {
  const int64_t nb = p.n / kQK;
  for (int t = 0; t < p.nt; ++t) {
    const BlockQ8_0* a = row_blocks<BlockQ8_0>(p.a, p.a_stride, t);
    for (int row = 0; row < p.nr; ++row) {
      const Block* w = row_blocks<Block>(p.w, p.w_stride, row / 4 * 4);
      const int r = row % 4;
      float sum = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        int32_t isum = 0;
        for (int e = 0; e < kQK; ++e) isum += kWeight(w[b], r, e) * a[b].qs[e];
        sum += static_cast<float>(isum) * h2f(w[b].d[r]) * h2f(a[b].d);
      }
      p.y[t * p.y_stride + row] = sum;
    }
  }
}

}  // namespace

Kernel scalar_kernel_q8_0x4() { return {scalar_tile_x4<BlockQ8_0x4, q8_0x4_weight>, 4, 1, 4}; }
Kernel scalar_kernel_q4_0x4() { return {scalar_tile_x4<BlockQ4_0x4, q4_0x4_weight>, 4, 1, 4}; }

Kernel scalar_kernel(GgmlType type) {
  // Tiles of one row and one token: the scalar code gains nothing from reuse
  // it cannot keep in registers, and stays easy to check.
  switch (type) {
    case GgmlType::F32:
      return {scalar_tile<dot_f32>, 1, 1, 1};
    case GgmlType::F16:
      return {scalar_tile<dot_f16>, 1, 1, 1};
    case GgmlType::BF16:
      return {scalar_tile<dot_bf16>, 1, 1, 1};
    case GgmlType::Q4_0:
      return {scalar_tile<dot_q4_0>, 1, 1, 1};
    case GgmlType::Q4_1:
      return {scalar_tile<dot_q4_1>, 1, 1, 1};
    case GgmlType::Q5_0:
      return {scalar_tile<dot_q5_0>, 1, 1, 1};
    case GgmlType::Q5_1:
      return {scalar_tile<dot_q5_1>, 1, 1, 1};
    case GgmlType::Q8_0:
      return {scalar_tile<dot_q8_0>, 1, 1, 1};
    case GgmlType::Q2_K:
      return {scalar_tile<dot_q2_k>, 1, 1, 1};
    case GgmlType::Q3_K:
      return {scalar_tile<dot_q3_k>, 1, 1, 1};
    case GgmlType::Q4_K:
      return {scalar_tile<dot_q45_k<false>>, 1, 1, 1};
    case GgmlType::Q5_K:
      return {scalar_tile<dot_q45_k<true>>, 1, 1, 1};
    case GgmlType::Q6_K:
      return {scalar_tile<dot_q6_k>, 1, 1, 1};
    default:
      return {};
  }
}

GgmlType dot_type(GgmlType weight) {
  switch (weight) {
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0:
      return GgmlType::Q8_0;
    case GgmlType::Q4_1:
    case GgmlType::Q5_1:
      return GgmlType::Q8_1;
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return GgmlType::Q8_K;
    default:
      return GgmlType::F32;
  }
}

}  // namespace gs::kern
