// Matrix products of quantized weights with f32 activations: the hot loop of
// every forward pass. Kernels are picked by active_simd().
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "tensor/types.h"

namespace gs {

// How a matrix's rows are stored. kRows is GGUF's layout; the others are
// copies some SIMD levels multiply faster (tensor/repack.h).
enum class WeightLayout : uint8_t {
  kRows,    // each row contiguous
  kQ8_0x4,  // Q8_0 rows interleaved four at a time (BlockQ8_0x4)
  kQ4_0x4,  // Q4_0 rows interleaved four at a time (BlockQ4_0x4)
};

// A 2-D weight matrix: `rows` rows of `cols` elements of `type`, in
// rows * row_bytes(type, cols) bytes. In GGUF's layout (kRows) each row is
// contiguous and the data usually points into the memory-mapped model file.
struct WeightView {
  GgmlType type = GgmlType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  WeightLayout layout = WeightLayout::kRows;
};

// Reusable buffers for matmul (quantized activations); grown, never shrunk,
// so steady-state decoding allocates nothing.
struct MatmulScratch {
  std::vector<uint8_t> buffer;
  std::vector<float> scales;  // Q8_0 activations' block scales as f32, for kernels that take them
  std::vector<int32_t> sums;  // and their sums for the kQ4_0x4 kernel
};

// y[t][r] = sum_c w[r][c] * x[t][c] for t < n_tokens, r < w.rows.
// x is n_tokens x w.cols (row stride w.cols), y is n_tokens x w.rows (row stride w.rows).
// Splits the work across the pool; must be called from the pool's owner thread.
void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch);

// Several matrices of the same width times the same activations (q, k and v;
// gate and up): y of each as above, with the activations quantized once and
// every matrix's rows in one pass of the pool's threads.
struct MatmulOutput {
  const WeightView* w = nullptr;
  float* y = nullptr;
};
void matmul(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool,
            MatmulScratch& scratch);

// Copies row `row` of w to f32 (embedding lookup).
void get_row(const WeightView& w, int64_t row, float* out);

}  // namespace gs
