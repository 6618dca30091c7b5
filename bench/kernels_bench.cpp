// Matmul kernels: bytes of weights per second for one token (decode, bound
// by memory bandwidth) and FLOP/s for a 64-token prompt (prefill, bound by
// compute), per weight type and shape, at 1 and 2 threads; plus a plain
// streaming read of memory as the ceiling for decode; plus attention of one
// decoded token over an f16 KV cache (attend_group, one layer per iteration).
//
// Decode reads each weight once per token from DRAM, never from cache. So
// that a small matrix does not sit in the (large) last-level cache between
// iterations, each benchmark fills an arena of copies of its matrix
// (GENSTACK_BENCH_ARENA_MB, default 1024; 0 = one warm copy) and every
// iteration multiplies the next copy.
//
// The SIMD level is the CPU's best; GENSTACK_SIMD=scalar|avx2 lowers it.
//   genstack_kernel_bench --benchmark_filter='q8_0/2048'
// On a busy machine, take the best of several runs:
//   --benchmark_repetitions=10 --benchmark_min_time=0.05 --benchmark_report_aggregates_only
// and read the _min (time) and _max (rates) rows.
#include <benchmark/benchmark.h>
#include <xmmintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/thread_pool.h"
#include "tensor/cpu.h"
#include "tensor/matmul.h"
#include "tensor/ops.h"
#include "tensor/quants.h"
#include "tensor/repack.h"
#include "tensor/types.h"

namespace gs {
namespace {

ThreadPool& pool_of(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& pool = pools[threads];
  if (!pool) pool = std::make_unique<ThreadPool>(threads);
  return *pool;
}

size_t arena_bytes() {
  const char* env = std::getenv("GENSTACK_BENCH_ARENA_MB");
  return static_cast<size_t>(env ? std::atol(env) : 1024) << 20;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Copies of one quantized matrix, one after another.
struct Arena {
  std::unique_ptr<uint8_t[]> data;
  size_t matrix_bytes = 0;
  int64_t copies = 1;
};

Arena make_arena(GgmlType type, int64_t rows, int64_t cols, WeightLayout layout) {
  Arena arena;
  const size_t rb = row_bytes(type, cols);
  arena.matrix_bytes = rb * static_cast<size_t>(rows);
  arena.copies = static_cast<int64_t>(arena_bytes() / arena.matrix_bytes);
  if (arena.copies < 1) arena.copies = 1;
  arena.data.reset(new uint8_t[arena.matrix_bytes * static_cast<size_t>(arena.copies)]);
  const std::vector<float> f = random_floats(static_cast<size_t>(rows * cols), 42);
  for (int64_t r = 0; r < rows; ++r) quantize_row(type, f.data() + r * cols, arena.data.get() + r * rb, cols);
  if (layout != WeightLayout::kRows) {
    std::vector<uint8_t> rows_copy(arena.data.get(), arena.data.get() + arena.matrix_bytes);
    repack(WeightView{type, rows, cols, rows_copy.data()}, layout, arena.data.get());
  }
  for (int64_t c = 1; c < arena.copies; ++c) {
    std::memcpy(arena.data.get() + arena.matrix_bytes * c, arena.data.get(), arena.matrix_bytes);
  }
  return arena;
}

// The arena of the last matrix asked for: repetitions of one benchmark
// (--benchmark_repetitions) reuse it instead of filling another GiB.
const Arena& arena_for(GgmlType type, int64_t rows, int64_t cols, WeightLayout layout) {
  static Arena arena;
  static GgmlType cached_type;
  static WeightLayout cached_layout;
  static int64_t cached_rows = 0, cached_cols = 0;
  if (!arena.data || type != cached_type || layout != cached_layout || rows != cached_rows ||
      cols != cached_cols) {
    arena = Arena{};  // free the old one first
    arena = make_arena(type, rows, cols, layout);
    cached_type = type;
    cached_layout = layout;
    cached_rows = rows;
    cached_cols = cols;
  }
  return arena;
}

void BM_Matmul(benchmark::State& state, GgmlType type, WeightLayout layout, int64_t rows, int64_t cols,
               int64_t n_tokens, int threads) {
  const Arena& arena = arena_for(type, rows, cols, layout);
  const std::vector<float> x = random_floats(static_cast<size_t>(n_tokens * cols), 1);
  std::vector<float> y(static_cast<size_t>(n_tokens * rows));
  ThreadPool& pool = pool_of(threads);
  MatmulScratch scratch;
  WeightView w{type, rows, cols, arena.data.get(), layout};
  int64_t copy = 0;
  for (auto _ : state) {
    w.data = arena.data.get() + arena.matrix_bytes * static_cast<size_t>(copy);
    copy = copy + 1 < arena.copies ? copy + 1 : 0;
    matmul(w, x.data(), n_tokens, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(arena.matrix_bytes));
  state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(rows * cols * n_tokens),
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(simd_name(active_simd())));
}

// Streaming read of a buffer larger than the last-level cache, split across
// the pool's threads: the bandwidth decode can hope for.
void BM_ReadBandwidth(benchmark::State& state, int threads) {
  const size_t bytes = arena_bytes() > (size_t{256} << 20) ? arena_bytes() : (size_t{256} << 20);
  const size_t n = bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buffer(new uint64_t[n]);
  ThreadPool& pool = pool_of(threads);
  pool.parallel_for(static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) buffer[i] = static_cast<uint64_t>(i);
  });
  std::vector<uint64_t> sinks(static_cast<size_t>(threads));
  for (auto _ : state) {
    pool.parallel_for(static_cast<int64_t>(n / 8), [&](int64_t b, int64_t e) {
      // Eight independent sums keep enough loads in flight; like the
      // kernels, ask for the data 16 KiB ahead (the hardware prefetcher
      // alone leaves a core well short of the bandwidth).
      uint64_t s[8] = {};
      for (int64_t i = b * 8; i < e * 8; i += 8) {
        _mm_prefetch(reinterpret_cast<const char*>(&buffer[i]) + 16384, _MM_HINT_T0);
        for (int j = 0; j < 8; ++j) s[j] += buffer[i + j];
      }
      uint64_t total = 0;
      for (uint64_t v : s) total += v;
      benchmark::DoNotOptimize(total);
    });
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n * sizeof(uint64_t)));
  state.counters["FLOPS"] = 0;  // every row of --benchmark_format=csv needs the same counters
}

// One decoded token's attention in one layer of Llama-3.2-1B's shape: 8 kv
// heads of 4 query heads each, head_dim 64, f16 cache of n_pos positions (K
// and V apart), the kv heads split across the threads as Forward does. The
// layouts, kept to compare: kRowMajor and kHeadMajor are 16-position blocks
// laid out [block][layer]; within a block kRowMajor puts rows of all 8 heads
// (1 KiB) one after another, kHeadMajor each head's 16 rows together (2 KiB
// runs; the server's layout before kLayerMajor);
// kOneBlock is one block of n_pos rows a layer, as `genstack bench` and
// `genstack run` (Context) have it: each head's rows one contiguous run;
// kLayerMajor is 16-position blocks laid out [layer][kv head][block][row]
// (KvCache's layout), the sequence's blocks consecutive, as a fresh pool
// hands them out: each head's rows again one run. Like decode,
// every iteration reads another layer's cache (as many layers as fill
// GENSTACK_BENCH_ARENA_MB), so it comes from DRAM. Bytes/s counts the K and
// V rows read.
enum class CacheLayout { kRowMajor, kHeadMajor, kOneBlock, kLayerMajor };

void BM_AttendGroup(benchmark::State& state, int64_t n_pos, int threads, CacheLayout layout) {
  constexpr int64_t kKvHeads = 8, kGroup = 4, kHeadDim = 64;
  const int64_t block_rows = layout == CacheLayout::kOneBlock ? n_pos : 16;
  const bool head_major = layout != CacheLayout::kRowMajor;
  const size_t slice = row_bytes(GgmlType::F16, kHeadDim);
  const size_t block_bytes = slice * kKvHeads * block_rows;
  const int64_t n_blocks = (n_pos + block_rows - 1) / block_rows;
  const size_t layer_bytes = block_bytes * static_cast<size_t>(n_blocks);  // K or V
  const int64_t layers = std::max<int64_t>(1, static_cast<int64_t>(arena_bytes() / (2 * layer_bytes)));
  const size_t half = layer_bytes * static_cast<size_t>(layers);
  std::unique_ptr<uint8_t[]> arena(new uint8_t[2 * half]);
  const std::vector<float> f = random_floats(static_cast<size_t>(kKvHeads * kHeadDim), 3);
  store_kv_row(GgmlType::F16, f.data(), arena.get(), kKvHeads * kHeadDim);
  for (size_t at = slice * kKvHeads; at < 2 * half; at += slice * kKvHeads)
    std::memcpy(arena.get() + at, arena.get(), slice * kKvHeads);
  std::vector<std::vector<KvBlock>> blocks(static_cast<size_t>(layers));
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t b = 0; b < n_blocks; ++b) {
      const size_t at = layout == CacheLayout::kLayerMajor
                            ? static_cast<size_t>(l * kKvHeads * n_blocks + b) * block_rows * slice
                            : static_cast<size_t>(b * layers + l) * block_bytes;
      blocks[static_cast<size_t>(l)].push_back({arena.get() + at, arena.get() + half + at});
    }
  }
  const std::vector<float> q = random_floats(static_cast<size_t>(kKvHeads * kGroup * kHeadDim), 4);
  std::vector<float> out(q.size());
  const size_t per_thread = attend_scratch_floats(kGroup, n_pos, kHeadDim);
  std::vector<float> scratch(per_thread * static_cast<size_t>(threads));
  ThreadPool& pool = pool_of(threads);
  int64_t layer = 0;
  for (auto _ : state) {
    const std::span<const KvBlock> list(blocks[static_cast<size_t>(layer)]);
    layer = layer + 1 < layers ? layer + 1 : 0;
    pool.run([&](int ith, int nth) {
      for (int64_t g = ith; g < kKvHeads; g += nth) {
        const int64_t head_rows = layout == CacheLayout::kLayerMajor ? n_blocks * block_rows : block_rows;
        const KvLayout kv = head_major
                                ? KvLayout{GgmlType::F16, slice, g * head_rows * kHeadDim, block_rows, list}
                                : KvLayout{GgmlType::F16, slice * kKvHeads, g * kHeadDim, block_rows, list};
        const int64_t at = g * kGroup * kHeadDim;
        attend_group(&q[at], kGroup, kv, kHeadDim, n_pos, 0.125f, &scratch[per_thread * ith], &out[at]);
      }
    });
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(2 * slice * kKvHeads) * n_pos);
  state.counters["FLOPS"] =
      benchmark::Counter(4.0 * static_cast<double>(kKvHeads * kGroup * kHeadDim * n_pos),
                         benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(simd_name(active_simd())));
}

// With --benchmark_repetitions: other processes only ever slow a run down,
// so on a shared machine the best run (min time, max rate) is the measure.
double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

const bool registered = [] {
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(("read_bandwidth/threads:" + std::to_string(threads)).c_str(),
                                 BM_ReadBandwidth, threads)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->ComputeStatistics("min", min_of)
        ->ComputeStatistics("max", max_of);
  }
  const GgmlType types[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q5_K,
                            GgmlType::Q3_K, GgmlType::Q2_K, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                            GgmlType::F16,  GgmlType::BF16, GgmlType::F32};
  const int64_t shapes[][2] = {{576, 576}, {1536, 576}, {2048, 2048}, {8192, 2048}};
  // q8_0x4, q4_0x4: in the AVX2 kernels' interleaved layouts (tensor/repack.h);
  // 8 tokens: the batched decode of 8 sequences.
  const std::tuple<GgmlType, WeightLayout, std::string> variants[] = {
      {GgmlType::Q8_0, WeightLayout::kQ8_0x4, "q8_0x4"}, {GgmlType::Q4_0, WeightLayout::kQ4_0x4, "q4_0x4"}};
  std::vector<std::tuple<GgmlType, WeightLayout, std::string>> all;
  for (GgmlType type : types) all.emplace_back(type, WeightLayout::kRows, std::string(traits(type).name));
  all.insert(all.begin() + 1, std::begin(variants), std::end(variants));
  for (const auto& [type, layout, type_name] : all) {
    for (const auto& shape : shapes) {
      const int64_t rows = shape[0], cols = shape[1];
      if (cols % traits(type).block_size != 0) continue;  // K formats need 256 | cols
      for (int64_t n_tokens : {1, 8, 64}) {
        for (int threads : {1, 2}) {
          const std::string name = type_name + "/" + std::to_string(rows) + "x" + std::to_string(cols) +
                                   "/tokens:" + std::to_string(n_tokens) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, type, layout, rows, cols, n_tokens, threads)
              ->UseRealTime()
              ->Unit(benchmark::kMicrosecond)
              ->ComputeStatistics("min", min_of)
              ->ComputeStatistics("max", max_of);
        }
      }
    }
  }
  const std::pair<CacheLayout, const char*> layouts[] = {{CacheLayout::kRowMajor, "row_major"},
                                                         {CacheLayout::kHeadMajor, "head_major"},
                                                         {CacheLayout::kOneBlock, "one_block"},
                                                         {CacheLayout::kLayerMajor, "layer_major"}};
  for (const auto& [layout, layout_name] : layouts) {
    for (int64_t n_pos : {512, 4096}) {
      for (int threads : {1, 2}) {
        const std::string name = std::string("attend_group/f16/") + layout_name +
                                 "/n_q:4/head_dim:64/n_pos:" + std::to_string(n_pos) +
                                 "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), BM_AttendGroup, n_pos, threads, layout)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond)
            ->ComputeStatistics("min", min_of)
            ->ComputeStatistics("max", max_of);
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace gs
