// matmul: quantize the activations once, then hand tiles of (rows x tokens)
// to the kernel of the active SIMD level, rows split evenly across threads.
#include "tensor/matmul.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "tensor/cpu.h"
#include "tensor/kernels.h"
#include "tensor/quants.h"
#include "tensor/repack.h"

namespace gs {
namespace {

// The best kernel the active level has for `w`; a level without one falls
// back to the next lower level (scalar covers every supported type). A
// repacked matrix keeps its layout's kernels whatever level is active now.
kern::Kernel pick_kernel(const WeightView& w) {
  const SimdLevel level = active_simd();
  if (w.layout == WeightLayout::kQ8_0x4) {
    return level == SimdLevel::kScalar ? kern::scalar_kernel_q8_0x4() : kern::avx2_kernel_q8_0x4();
  }
  const GgmlType type = w.type;
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

// Rows are handed to threads in chunks of whole row tiles holding about this
// many bytes of weights. Each thread starts on its own contiguous share of
// the chunks (one sequential stream per core, as the prefetchers like) and
// then helps with whatever is left of the others' shares: the threads finish
// together even when the OS preempts one of them for a while, and the cost
// is one atomic increment per chunk. Chunk boundaries fall on whole tiles, so
// the results do not depend on the number of threads.
constexpr size_t kChunkBytes = size_t{32} << 10;
constexpr int kMaxShares = 64;     // threads beyond this only help
struct alignas(64) ChunkCounter {  // one cache line each: no false sharing
  int64_t next;                    // chunks claimed from this share (std::atomic_ref)
};

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
  const kern::Kernel kernel = pick_kernel(w);
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
      for (int64_t t = begin; t < end; ++t) {
        quantize_activations(dot, x + t * w.cols, q + t * act_stride, w.cols);
      }
    };
    if (n_tokens == 1) {
      quantize_tokens(0, 1);  // a few microseconds: not worth waking the pool
    } else {
      pool.parallel_for(n_tokens, quantize_tokens);
    }
    act = q;
  }

  const size_t w_stride = row_bytes(w.type, w.cols);
  const int64_t tile_rows = n_tokens == 1 ? kernel.decode_rows : kernel.rows, tile_tokens = kernel.tokens;
  const int64_t n_row_tiles = (w.rows + tile_rows - 1) / tile_rows;
  int64_t tiles_per_chunk = static_cast<int64_t>(kChunkBytes / (w_stride * static_cast<size_t>(tile_rows)));
  if (tiles_per_chunk < 1) tiles_per_chunk = 1;
  const int64_t n_chunks = (n_row_tiles + tiles_per_chunk - 1) / tiles_per_chunk;
  int64_t token_chunk = static_cast<int64_t>(kActivationChunkBytes / act_stride) / tile_tokens * tile_tokens;
  if (token_chunk < tile_tokens) token_chunk = tile_tokens;

  ChunkCounter counters[kMaxShares];
  for (int64_t t0 = 0; t0 < n_tokens; t0 += token_chunk) {
    const int64_t t_end = t0 + token_chunk < n_tokens ? t0 + token_chunk : n_tokens;
    // Rows [r0, r1) for tokens [t0, t_end): a row tile at a time, and for
    // each, every token tile, so that the weights are reused from L1.
    auto run_chunk = [&](int64_t chunk) {
      kern::Tile tile;
      tile.n = w.cols;
      tile.w_stride = w_stride;
      tile.a_stride = act_stride;
      tile.y_stride = w.rows;
      const int64_t r0 = chunk * tiles_per_chunk * tile_rows;
      const int64_t r1 =
          r0 + tiles_per_chunk * tile_rows < w.rows ? r0 + tiles_per_chunk * tile_rows : w.rows;
      for (int64_t r = r0; r < r1; r += tile_rows) {
        tile.w = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * w_stride;
        tile.nr = static_cast<int>(r1 - r < tile_rows ? r1 - r : tile_rows);
        for (int64_t t = t0; t < t_end; t += tile_tokens) {
          tile.a = act + static_cast<size_t>(t) * act_stride;
          tile.nt = static_cast<int>(t_end - t < tile_tokens ? t_end - t : tile_tokens);
          tile.y = y + t * w.rows + r;
          kernel.fn(tile);
        }
      }
    };
    for (int s = 0; s < pool.size() && s < kMaxShares; ++s) counters[s].next = 0;
    pool.run([&](int ith, int nth) {
      // Share s is chunks [n_chunks * s / shares, n_chunks * (s + 1) / shares).
      // Each thread works through its own share first, then claims what is
      // left of the others'.
      const int shares = nth < kMaxShares ? nth : kMaxShares;
      for (int k = 0; k < shares; ++k) {
        const int s = (ith + k) % shares;
        const int64_t begin = n_chunks * s / shares, end = n_chunks * (s + 1) / shares;
        for (;;) {
          const int64_t claimed =
              std::atomic_ref<int64_t>(counters[s].next).fetch_add(1, std::memory_order_relaxed);
          const int64_t chunk = begin + claimed;
          if (chunk >= end) break;
          run_chunk(chunk);
        }
      }
    });
  }
}

void get_row(const WeightView& w, int64_t row, float* out) {
  if (w.layout == WeightLayout::kQ8_0x4) {
    std::vector<BlockQ8_0> blocks(static_cast<size_t>(w.cols / kQK));
    unpack_q8_0x4_row(w, row, blocks.data());
    dequantize_row(GgmlType::Q8_0, blocks.data(), out, w.cols);
    return;
  }
  const size_t stride = row_bytes(w.type, w.cols);
  dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * stride, out,
                 w.cols);
}

}  // namespace gs
