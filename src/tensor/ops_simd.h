// Internal interface between ops.cpp and its SIMD versions (ops_avx2.cpp).
// Each does a prefix of the row, whole vectors only, and returns its length;
// ops.cpp finishes the rest with the scalar code.
#pragma once

#include <cstdint>

#include "tensor/types.h"

namespace gs {

int64_t silu_mul_avx2(float* gate, const float* up, int64_t n);
// Round to nearest even, as fp32_to_fp16.
int64_t fp32_to_fp16_avx2(const float* src, fp16_t* dst, int64_t n);

}  // namespace gs
