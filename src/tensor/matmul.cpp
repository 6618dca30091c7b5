// matmul: quantize the activations once, then hand tiles of (rows x tokens)
// to the kernel of the active SIMD level, rows split evenly across threads.
#include "tensor/matmul.h"

#include <cstdio>
#include <cstdlib>

#include "tensor/cpu.h"
#include "tensor/kernels.h"
#include "tensor/quants.h"

namespace gs {
namespace {

// The best kernel the active level has for `type`; a level without one falls
// back to the next lower level (scalar covers every supported type).
kern::Kernel pick_kernel(GgmlType type) {
  const SimdLevel level = active_simd();
  if (level == SimdLevel::kAvx512Vnni) {
    if (kern::Kernel k = kern::avx512_kernel(type); k.fn) return k;
  }
  if (level != SimdLevel::kScalar) {
    if (kern::Kernel k = kern::avx2_kernel(type); k.fn) return k;
  }
  return kern::scalar_kernel(type);
}

void quantize_activations(GgmlType dot, const float* x, void* dst, int64_t n) {
  switch (dot) {
    case GgmlType::Q8_0:
      quantize_row_q8_0(x, static_cast<BlockQ8_0*>(dst), n);
      break;
    case GgmlType::Q8_1:
      quantize_row_q8_1(x, static_cast<BlockQ8_1*>(dst), n);
      break;
    case GgmlType::Q8_K:
      quantize_row_q8_K(x, static_cast<BlockQ8_K*>(dst), n);
      break;
    default:
      break;
  }
}

// Prefill keeps the activations of a chunk of tokens in L2 while every row
// tile of the thread streams past them (weights are read once per chunk).
constexpr size_t kActivationChunkBytes = size_t{1} << 20;

[[noreturn]] void unsupported(GgmlType type) {
  std::fprintf(stderr, "genstack: matmul has no kernel for tensor type %u\n", static_cast<unsigned>(type));
  std::abort();
}

}  // namespace

void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch) {
  if (w.rows <= 0 || n_tokens <= 0) return;
  const kern::Kernel kernel = pick_kernel(w.type);
  if (!kernel.fn) unsupported(w.type);

  // Activations in the kernel's dot type, each token's row contiguous.
  const GgmlType dot = kern::dot_type(w.type);
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  size_t act_stride = static_cast<size_t>(w.cols) * sizeof(float);
  if (dot != GgmlType::F32) {
    act_stride = row_bytes(dot, w.cols);
    const size_t need = act_stride * static_cast<size_t>(n_tokens);
    if (scratch.buffer.size() < need) scratch.buffer.resize(need);
    uint8_t* q = scratch.buffer.data();
    auto quantize_tokens = [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) quantize_activations(dot, x + t * w.cols, q + t * act_stride, w.cols);
    };
    if (n_tokens == 1) {
      quantize_tokens(0, 1);  // a few microseconds: not worth waking the pool
    } else {
      pool.parallel_for(n_tokens, quantize_tokens);
    }
    act = q;
  }

  const size_t w_stride = row_bytes(w.type, w.cols);
  const int64_t tile_rows = kernel.rows, tile_tokens = kernel.tokens;
  const int64_t n_row_tiles = (w.rows + tile_rows - 1) / tile_rows;
  int64_t chunk = static_cast<int64_t>(kActivationChunkBytes / act_stride) / tile_tokens * tile_tokens;
  if (chunk < tile_tokens) chunk = tile_tokens;

  pool.run([&](int ith, int nth) {
    // Whole row tiles, as evenly as they go: the threads differ by at most
    // one tile, so they finish together.
    const int64_t first = n_row_tiles * ith / nth, last = n_row_tiles * (ith + 1) / nth;
    kern::Tile tile;
    tile.n = w.cols;
    tile.w_stride = w_stride;
    tile.a_stride = act_stride;
    tile.y_stride = w.rows;
    for (int64_t t0 = 0; t0 < n_tokens; t0 += chunk) {
      const int64_t t_end = t0 + chunk < n_tokens ? t0 + chunk : n_tokens;
      for (int64_t rt = first; rt < last; ++rt) {
        const int64_t r = rt * tile_rows;
        tile.w = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * w_stride;
        tile.nr = static_cast<int>(w.rows - r < tile_rows ? w.rows - r : tile_rows);
        // Consecutive token tiles reuse this row tile's weights from L1.
        for (int64_t t = t0; t < t_end; t += tile_tokens) {
          tile.a = act + static_cast<size_t>(t) * act_stride;
          tile.nt = static_cast<int>(t_end - t < tile_tokens ? t_end - t : tile_tokens);
          tile.y = y + t * w.rows + r;
          kernel.fn(tile);
        }
      }
    }
  });
}

void get_row(const WeightView& w, int64_t row, float* out) {
  const size_t stride = row_bytes(w.type, w.cols);
  dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * stride, out, w.cols);
}

}  // namespace gs
