// Internal to the tensor module: the scale search behind the K-format
// quantizers. A super-block of 256 weights is cut into sub-blocks that each
// get an integer scale level (and, for the affine formats, a min level)
// relative to one fp16 super-block scale. The search minimises the plain
// squared reconstruction error of the super-block.
#pragma once

#include <cstdint>

#include "tensor/types.h"

namespace gs::kquants {

// Elements of sub-block j are d*ls[j]*q - dmin*lm[j], q in [0, qmax],
// ls and lm in [0, lmax] (Q2_K, Q4_K, Q5_K).
struct AffineFormat {
  int sub_size;
  int qmax;
  int lmax;
};
struct AffineBlock {
  fp16_t d = 0, dmin = 0;
  uint8_t ls[16] = {}, lm[16] = {};
  uint8_t q[kQK_K] = {};
};
void quantize_affine(const float* x, const AffineFormat& format, AffineBlock* out);

// Elements of sub-block j are d*ls[j]*q, q in [-qneg, qneg), ls in
// [-lneg, lneg) (Q3_K, Q6_K).
struct SymmetricFormat {
  int sub_size;
  int qneg;
  int lneg;
};
struct SymmetricBlock {
  fp16_t d = 0;
  int8_t ls[16] = {};
  int8_t q[kQK_K] = {};
};
void quantize_symmetric(const float* x, const SymmetricFormat& format, SymmetricBlock* out);

}  // namespace gs::kquants
