// Internal to the tensor module: the super-block ("K") formats, split out of
// quants.cpp. dequantize_row/quantize_row dispatch here.
#pragma once

#include <cstdint>

#include "tensor/quants.h"

namespace gs::kquants {

void dequantize_q2_K(const BlockQ2_K* x, float* y, int64_t n);
void dequantize_q3_K(const BlockQ3_K* x, float* y, int64_t n);
void dequantize_q4_K(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_q5_K(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_q6_K(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_q8_K(const BlockQ8_K* x, float* y, int64_t n);

void quantize_q2_K(const float* x, BlockQ2_K* y, int64_t n);
void quantize_q3_K(const float* x, BlockQ3_K* y, int64_t n);
void quantize_q4_K(const float* x, BlockQ4_K* y, int64_t n);
void quantize_q5_K(const float* x, BlockQ5_K* y, int64_t n);
void quantize_q6_K(const float* x, BlockQ6_K* y, int64_t n);

}  // namespace gs::kquants
