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
  if (w.layout == WeightLayout::kQ4_0x4) {
    return level == SimdLevel::kScalar ? kern::scalar_kernel_q4_0x4() : kern::avx2_kernel_q4_0x4();
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

// What some kernels read besides the Q8_0 activations (kern::Tile::a_d, a_sum).
struct ActExtras {
  const float* d = nullptr;
  const int32_t* sum = nullptr;
};

// Token t's entries of ActExtras from its quantized blocks (either pointer
// may be null).
void block_extras(const BlockQ8_0* blocks, int64_t nb, int64_t t, float* d, int32_t* sum) {
  for (int64_t i = 0; i < nb; ++i) {
    if (d) d[t * nb + i] = fp16_to_fp32(blocks[i].d);
    if (!sum) continue;
    for (int h = 0; h < 2; ++h) {
      int32_t s = 0;
      for (int c = 0; c < 4; ++c) {
        for (int j = 0; j < 4; ++j) s += blocks[i].qs[8 * c + 4 * h + j];
      }
      sum[2 * (t * nb + i) + h] = 8 * s;
    }
  }
}

// One matrix of a call: its kernel and how its rows split into chunks.
struct Plan {
  kern::Kernel kernel;
  const WeightView* w = nullptr;
  float* y = nullptr;
  size_t w_stride = 0;
  int64_t tile_rows = 0, tiles_per_chunk = 0, n_chunks = 0;
};

Plan make_plan(const MatmulOutput& out, int64_t n_tokens) {
  Plan p;
  p.kernel = pick_kernel(*out.w);
  if (!p.kernel.fn) unsupported(out.w->type);
  p.w = out.w;
  p.y = out.y;
  p.w_stride = row_bytes(out.w->type, out.w->cols);
  p.tile_rows = n_tokens == 1 ? p.kernel.decode_rows : p.kernel.rows;
  const int64_t n_row_tiles = (out.w->rows + p.tile_rows - 1) / p.tile_rows;
  p.tiles_per_chunk = static_cast<int64_t>(kChunkBytes / (p.w_stride * static_cast<size_t>(p.tile_rows)));
  if (p.tiles_per_chunk < 1) p.tiles_per_chunk = 1;
  p.n_chunks = (n_row_tiles + p.tiles_per_chunk - 1) / p.tiles_per_chunk;
  return p;
}

// Rows of chunk `chunk` of p for tokens [t0, t_end): a row tile at a time,
// and for each, every token tile, so that the weights are reused from L1.
void run_chunk(const Plan& p, int64_t chunk, const uint8_t* act, size_t act_stride, const ActExtras& extras,
               int64_t t0, int64_t t_end) {
  const WeightView& w = *p.w;
  kern::Tile tile;
  tile.n = w.cols;
  tile.w_stride = p.w_stride;
  tile.a_stride = act_stride;
  tile.y_stride = w.rows;
  const int64_t tile_tokens = p.kernel.tokens;
  const int64_t r0 = chunk * p.tiles_per_chunk * p.tile_rows;
  const int64_t r1 =
      r0 + p.tiles_per_chunk * p.tile_rows < w.rows ? r0 + p.tiles_per_chunk * p.tile_rows : w.rows;
  for (int64_t r = r0; r < r1; r += p.tile_rows) {
    tile.w = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * p.w_stride;
    tile.nr = static_cast<int>(r1 - r < p.tile_rows ? r1 - r : p.tile_rows);
    for (int64_t t = t0; t < t_end; t += tile_tokens) {
      tile.a = act + static_cast<size_t>(t) * act_stride;
      tile.a_d = extras.d ? extras.d + t * (w.cols / kQK) : nullptr;
      tile.a_sum = extras.sum ? extras.sum + 2 * t * (w.cols / kQK) : nullptr;
      tile.nt = static_cast<int>(t_end - t < tile_tokens ? t_end - t : tile_tokens);
      tile.y = p.y + t * w.rows + r;
      p.kernel.fn(tile);
    }
  }
}

}  // namespace

void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch) {
  const MatmulOutput out{&w, y};
  matmul(std::span<const MatmulOutput>(&out, 1), x, n_tokens, pool, scratch);
}

void matmul(std::span<const MatmulOutput> outs, const float* x, int64_t n_tokens, ThreadPool& pool,
            MatmulScratch& scratch) {
  if (outs.empty() || n_tokens <= 0) return;
  const int64_t cols = outs[0].w->cols;
  const GgmlType dot = kern::dot_type(outs[0].w->type);
  for (const MatmulOutput& out : outs) {
    if (out.w->cols != cols || kern::dot_type(out.w->type) != dot) {
      for (const MatmulOutput& one : outs) matmul(*one.w, x, n_tokens, one.y, pool, scratch);
      return;
    }
  }
  constexpr size_t kMaxOutputs = 4;
  if (outs.size() > kMaxOutputs) {
    matmul(outs.first(kMaxOutputs), x, n_tokens, pool, scratch);
    matmul(outs.subspan(kMaxOutputs), x, n_tokens, pool, scratch);
    return;
  }

  // The matrices' chunks one after another: chunk c of the call is chunk
  // c - first[m] of matrix m.
  Plan plans[kMaxOutputs];
  int64_t first[kMaxOutputs + 1] = {0};
  int64_t tile_tokens = 1;
  bool f32_scales = false, act_sums = false;  // what some kernel also wants of the activations
  for (size_t m = 0; m < outs.size(); ++m) {
    first[m + 1] = first[m];
    if (outs[m].w->rows <= 0) continue;
    plans[m] = make_plan(outs[m], n_tokens);
    first[m + 1] += plans[m].n_chunks;
    tile_tokens = plans[m].kernel.tokens > tile_tokens ? plans[m].kernel.tokens : tile_tokens;
    f32_scales |= plans[m].kernel.f32_scales;
    act_sums |= plans[m].kernel.act_sums;
  }

  // Activations in the kernels' dot type, each token's row contiguous.
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  size_t act_stride = static_cast<size_t>(cols) * sizeof(float);
  if (dot != GgmlType::F32) {
    act_stride = row_bytes(dot, cols);
    const size_t need = act_stride * static_cast<size_t>(n_tokens);
    if (scratch.buffer.size() < need) scratch.buffer.resize(need);
    uint8_t* q = scratch.buffer.data();
    const size_t n_blocks = static_cast<size_t>(n_tokens * (cols / kQK));
    f32_scales &= dot == GgmlType::Q8_0;
    act_sums &= dot == GgmlType::Q8_0;
    if (f32_scales && scratch.scales.size() < n_blocks) scratch.scales.resize(n_blocks);
    if (act_sums && scratch.sums.size() < 2 * n_blocks) scratch.sums.resize(2 * n_blocks);
    auto quantize_tokens = [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        quantize_activations(dot, x + t * cols, q + t * act_stride, cols);
        if (f32_scales || act_sums) {
          block_extras(reinterpret_cast<const BlockQ8_0*>(q + t * act_stride), cols / kQK, t,
                       f32_scales ? scratch.scales.data() : nullptr,
                       act_sums ? scratch.sums.data() : nullptr);
        }
      }
    };
    if (n_tokens == 1) {
      quantize_tokens(0, 1);  // a few microseconds: not worth waking the pool
    } else {
      pool.parallel_for(n_tokens, quantize_tokens);
    }
    act = q;
  }

  const int64_t n_chunks = first[outs.size()];
  const ActExtras extras{f32_scales ? scratch.scales.data() : nullptr,
                         act_sums ? scratch.sums.data() : nullptr};
  if (n_chunks == 0) return;
  int64_t token_chunk = static_cast<int64_t>(kActivationChunkBytes / act_stride) / tile_tokens * tile_tokens;
  if (token_chunk < tile_tokens) token_chunk = tile_tokens;

  ChunkCounter counters[kMaxShares];
  for (int64_t t0 = 0; t0 < n_tokens; t0 += token_chunk) {
    const int64_t t_end = t0 + token_chunk < n_tokens ? t0 + token_chunk : n_tokens;
    auto run_global_chunk = [&](int64_t chunk) {
      size_t m = 0;
      while (chunk >= first[m + 1]) ++m;
      run_chunk(plans[m], chunk - first[m], act, act_stride, extras, t0, t_end);
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
          run_global_chunk(chunk);
        }
      }
    });
  }
}

void get_row(const WeightView& w, int64_t row, float* out) {
  if (w.layout != WeightLayout::kRows) {
    std::vector<uint8_t> bytes(row_bytes(w.type, w.cols));
    unpack_row(w, row, bytes.data());
    dequantize_row(w.type, bytes.data(), out, w.cols);
    return;
  }
  const size_t stride = row_bytes(w.type, w.cols);
  dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * stride, out,
                 w.cols);
}

}  // namespace gs
