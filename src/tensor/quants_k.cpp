// Bit layouts of the K formats (256-element super-blocks): dequantization,
// and packing of the levels chosen by quants_fit.cpp. The layouts follow
// ggml's block_q*_K; within a 128-element half, quants of the same position
// in four consecutive 32-element groups share a byte (2-bit formats) or a
// nibble pair, which is what keeps ggml's SIMD unpacking cheap.
#include <cstring>

#include "tensor/quants_fit.h"
#include "tensor/quants_k.h"

namespace gs::kquants {
namespace {

// Sub-block j's 6-bit (scale, min) pair of Q4_K/Q5_K: j < 4 in the low six
// bits of bytes j and j+4; j >= 4 as nibbles of byte j+4, with their top two
// bits in the spare high bits of bytes j-4 and j.
void pack_scale_min_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      scales[j] = ls[j];
      scales[j + 4] = lm[j];
    } else {
      scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
      scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
    }
  }
}

// Q3_K's sixteen 6-bit scales (stored + 32): low nibbles in bytes 0-7 (j and
// j+8 share a byte), top two bits of scale j in byte 8 + j%4 at bit 2*(j/4).
int q3_K_scale(const uint8_t* scales, int j) {
  const int low = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
  const int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

void pack_q3_K_scales(const int8_t* ls, uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int j = 0; j < 16; ++j) {
    const int l = ls[j] + 32;
    scales[j % 8] |= static_cast<uint8_t>((l & 0xF) << (j < 8 ? 0 : 4));
    scales[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
  }
}

// 2-bit fields: element e of a 128-element half lives in byte e%32 at bit
// 2*(e/32).
void pack_2bit(const uint8_t* q, uint8_t* qs) {
  for (int half = 0; half < 2; ++half, q += 128, qs += 32) {
    for (int l = 0; l < 32; ++l) {
      qs[l] = static_cast<uint8_t>((q[l] & 3) | ((q[l + 32] & 3) << 2) | ((q[l + 64] & 3) << 4) |
                                   ((q[l + 96] & 3) << 6));
    }
  }
}

int unpack_2bit(const uint8_t* qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

// Nibbles of Q4_K/Q5_K: each 64-element chunk stores its first 32 elements
// in the low nibbles of 32 bytes and the next 32 in the high nibbles.
void pack_nibbles(const uint8_t* q, uint8_t* qs) {
  for (int chunk = 0; chunk < 4; ++chunk, q += 64, qs += 32) {
    for (int l = 0; l < 32; ++l) qs[l] = static_cast<uint8_t>((q[l] & 0xF) | ((q[l + 32] & 0xF) << 4));
  }
}

int unpack_nibble(const uint8_t* qs, int e) {
  return (qs[32 * (e / 64) + e % 32] >> (4 * ((e % 64) / 32))) & 0xF;
}

// One high bit per element: element e in byte e%32 at bit e/32 (Q3_K, Q5_K).
void pack_high_bits(const uint8_t* q, int bit, uint8_t* h) {
  std::memset(h, 0, kQK_K / 8);
  for (int e = 0; e < kQK_K; ++e) h[e % 32] |= static_cast<uint8_t>(((q[e] >> bit) & 1) << (e / 32));
}

int unpack_high_bit(const uint8_t* h, int e) { return (h[e % 32] >> (e / 32)) & 1; }

// Q6_K: in each 128-element half, element l + 32*g (l < 32, group g) has its
// low nibble in ql[l + 32*(g%2)] (low nibble for g < 2, high for g >= 2) and
// its top two bits in qh[l] at bit 2*g.
void pack_q6_K(const uint8_t* q, uint8_t* ql, uint8_t* qh) {
  for (int half = 0; half < 2; ++half, q += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((q[l] >> 4) | ((q[l + 32] >> 4) << 2) | ((q[l + 64] >> 4) << 4) |
                                   ((q[l + 96] >> 4) << 6));
    }
  }
}

int unpack_q6_K(const uint8_t* ql, const uint8_t* qh, int e) {
  const int half = e / 128, g = (e % 128) / 32, l = e % 32;
  const int low = (ql[64 * half + l + 32 * (g % 2)] >> (4 * (g / 2))) & 0xF;
  const int high = (qh[32 * half + l] >> (2 * g)) & 3;
  return low | (high << 4);
}

}  // namespace

// ---- dequantization ----------------------------------------------------------
// Float operations in ggml's order ((d * level) * q - dmin * level), so the
// results are bit-identical to ggml's dequantize_row_q*_K.

void dequantize_q2_K(const BlockQ2_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
    for (int e = 0; e < kQK_K; ++e) {
      const uint8_t sc = x[i].scales[e / 16];
      const float scale = d * static_cast<float>(sc & 0xF), min = dmin * static_cast<float>(sc >> 4);
      y[e] = scale * static_cast<float>(unpack_2bit(x[i].qs, e)) - min;
    }
  }
}

void dequantize_q3_K(const BlockQ3_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = fp16_to_fp32(x[i].d);
    for (int e = 0; e < kQK_K; ++e) {
      const float scale = d * static_cast<float>(q3_K_scale(x[i].scales, e / 16));
      // The stored high bit is set for the non-negative half of [-4, 3].
      const int q = unpack_2bit(x[i].qs, e) - (unpack_high_bit(x[i].hmask, e) ? 0 : 4);
      y[e] = scale * static_cast<float>(q);
    }
  }
}

void dequantize_q4_K(const BlockQ4_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, x[i].scales, &sc, &m);
      const float scale = d * static_cast<float>(sc), min = dmin * static_cast<float>(m);
      for (int e = 32 * j; e < 32 * (j + 1); ++e) {
        y[e] = scale * static_cast<float>(unpack_nibble(x[i].qs, e)) - min;
      }
    }
  }
}

void dequantize_q5_K(const BlockQ5_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, x[i].scales, &sc, &m);
      const float scale = d * static_cast<float>(sc), min = dmin * static_cast<float>(m);
      for (int e = 32 * j; e < 32 * (j + 1); ++e) {
        const int q = unpack_nibble(x[i].qs, e) | (unpack_high_bit(x[i].qh, e) << 4);
        y[e] = scale * static_cast<float>(q) - min;
      }
    }
  }
}

void dequantize_q6_K(const BlockQ6_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = fp16_to_fp32(x[i].d);
    for (int e = 0; e < kQK_K; ++e) {
      const float scale = d * static_cast<float>(x[i].scales[e / 16]);
      y[e] = scale * static_cast<float>(unpack_q6_K(x[i].ql, x[i].qh, e) - 32);
    }
  }
}

void dequantize_q8_K(const BlockQ8_K* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    for (int e = 0; e < kQK_K; ++e) y[e] = x[i].d * static_cast<float>(x[i].qs[e]);
  }
}

// ---- quantization ------------------------------------------------------------

void quantize_q2_K(const float* x, BlockQ2_K* y, int64_t n) {
  constexpr AffineFormat kFormat{/*sub_size=*/16, /*qmax=*/3, /*lmax=*/15};
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    AffineBlock b;
    quantize_affine(x, kFormat, &b);
    y[i].d = b.d;
    y[i].dmin = b.dmin;
    for (int j = 0; j < 16; ++j) y[i].scales[j] = static_cast<uint8_t>(b.ls[j] | (b.lm[j] << 4));
    pack_2bit(b.q, y[i].qs);
  }
}

void quantize_q3_K(const float* x, BlockQ3_K* y, int64_t n) {
  constexpr SymmetricFormat kFormat{/*sub_size=*/16, /*qneg=*/4, /*lneg=*/32};
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    SymmetricBlock b;
    quantize_symmetric(x, kFormat, &b);
    uint8_t q[kQK_K];
    for (int e = 0; e < kQK_K; ++e) q[e] = static_cast<uint8_t>(b.q[e] + 4);
    y[i].d = b.d;
    pack_q3_K_scales(b.ls, y[i].scales);
    pack_2bit(q, y[i].qs);
    pack_high_bits(q, 2, y[i].hmask);
  }
}

void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t n) {
  constexpr AffineFormat kFormat{/*sub_size=*/32, /*qmax=*/15, /*lmax=*/63};
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    AffineBlock b;
    quantize_affine(x, kFormat, &b);
    y[i].d = b.d;
    y[i].dmin = b.dmin;
    pack_scale_min_k4(b.ls, b.lm, y[i].scales);
    pack_nibbles(b.q, y[i].qs);
  }
}

void quantize_q5_K(const float* x, BlockQ5_K* y, int64_t n) {
  constexpr AffineFormat kFormat{/*sub_size=*/32, /*qmax=*/31, /*lmax=*/63};
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    AffineBlock b;
    quantize_affine(x, kFormat, &b);
    y[i].d = b.d;
    y[i].dmin = b.dmin;
    pack_scale_min_k4(b.ls, b.lm, y[i].scales);
    pack_nibbles(b.q, y[i].qs);
    pack_high_bits(b.q, 4, y[i].qh);
  }
}

void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t n) {
  constexpr SymmetricFormat kFormat{/*sub_size=*/16, /*qneg=*/32, /*lneg=*/128};
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    SymmetricBlock b;
    quantize_symmetric(x, kFormat, &b);
    uint8_t q[kQK_K];
    for (int e = 0; e < kQK_K; ++e) q[e] = static_cast<uint8_t>(b.q[e] + 32);
    y[i].d = b.d;
    std::memcpy(y[i].scales, b.ls, sizeof y[i].scales);
    pack_q6_K(q, y[i].ql, y[i].qh);
  }
}

}  // namespace gs::kquants
