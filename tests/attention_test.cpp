// attend_group against a double-precision softmax over the dequantized cache,
// for every cache type, group size, head size, block size and SIMD level this
// CPU has. Rows past n_pos and the other kv heads of each row hold poison or
// other data, so reading a wrong row or slice shows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/ops.h"
#include "tensor/quants.h"
#include "tensor/types.h"

namespace gs {
namespace {

std::vector<SimdLevel> supported_levels() {
  std::vector<SimdLevel> levels;
  for (int l = 0; l <= static_cast<int>(detect_simd()); ++l) levels.push_back(static_cast<SimdLevel>(l));
  return levels;
}

struct SimdGuard {
  explicit SimdGuard(SimdLevel level) { force_simd(level); }
  ~SimdGuard() { force_simd(std::nullopt); }
};

constexpr int64_t kKvHeads = 3;
constexpr int64_t kHead = 1;  // the kv head under test: a slice not at the row's start

// A cache of n_pos positions with kKvHeads heads per row, as one contiguous
// buffer (rows back to back, row_stride apart) and the dequantized values.
struct Cache {
  GgmlType type;
  int64_t head_dim, n_pos;
  size_t row_stride;
  std::vector<uint8_t> k, v;
  std::vector<float> k_deq, v_deq;  // [pos][head_dim] of the head under test
};

Cache make_cache(GgmlType type, int64_t head_dim, int64_t n_pos, uint32_t seed, float k_scale = 1.0f) {
  Cache c{type, head_dim, n_pos, 0, {}, {}, {}, {}};
  const int64_t row_elems = kKvHeads * head_dim;
  // Not a multiple of 64: rows and slices start at odd places within lines.
  c.row_stride = row_bytes(type, row_elems) + 40;
  c.k.resize(c.row_stride * n_pos);
  c.v.resize(c.row_stride * n_pos);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(row_elems)), deq(static_cast<size_t>(row_elems));
  const size_t head_bytes = row_bytes(type, kHead * head_dim);
  for (int64_t p = 0; p < n_pos; ++p) {
    for (int kv = 0; kv < 2; ++kv) {
      for (float& x : row) x = dist(rng) * (kv == 0 ? k_scale : 1.0f);
      uint8_t* dst = (kv == 0 ? c.k : c.v).data() + p * c.row_stride;
      store_kv_row(type, row.data(), dst, row_elems);
      dequantize_row(type, dst + head_bytes, deq.data(), head_dim);
      auto& out = kv == 0 ? c.k_deq : c.v_deq;
      out.insert(out.end(), deq.begin(), deq.begin() + head_dim);
    }
  }
  return c;
}

// The first n_pos positions of `c` in blocks of block_rows rows, each block
// its own allocation; rows past n_pos in the last block are poison (NaN in
// every cache type), so a kernel that reads them gives NaN.
struct Paged {
  std::vector<std::vector<uint8_t>> k, v;
  std::vector<KvBlock> blocks;
};

Paged page(const Cache& c, int64_t n_pos, int64_t block_rows) {
  Paged pg;
  const int64_t n_blocks = (n_pos + block_rows - 1) / block_rows;
  const size_t block_bytes = c.row_stride * block_rows;
  for (int64_t b = 0; b < n_blocks; ++b) {
    pg.k.emplace_back(block_bytes, uint8_t{0xFF});
    pg.v.emplace_back(block_bytes, uint8_t{0xFF});
    const int64_t rows = std::min(block_rows, n_pos - b * block_rows);
    std::memcpy(pg.k.back().data(), c.k.data() + b * block_bytes, c.row_stride * rows);
    std::memcpy(pg.v.back().data(), c.v.data() + b * block_bytes, c.row_stride * rows);
  }
  for (int64_t b = 0; b < n_blocks; ++b) pg.blocks.push_back({pg.k[b].data(), pg.v[b].data()});
  return pg;
}

// out[h] = softmax(q[h] . K^T * scale) V over the first n_pos positions, in double.
std::vector<double> reference(const Cache& c, const std::vector<float>& q, int64_t n_q, int64_t n_pos,
                              float scale) {
  const int64_t hd = c.head_dim;
  std::vector<double> out(static_cast<size_t>(n_q * hd), 0.0), s(static_cast<size_t>(n_pos));
  for (int64_t h = 0; h < n_q; ++h) {
    double mx = -INFINITY;
    for (int64_t p = 0; p < n_pos; ++p) {
      double dot = 0.0;
      for (int64_t i = 0; i < hd; ++i) dot += double{q[h * hd + i]} * c.k_deq[p * hd + i];
      s[p] = dot * scale;
      mx = std::max(mx, s[p]);
    }
    double sum = 0.0;
    for (int64_t p = 0; p < n_pos; ++p) sum += s[p] = std::exp(s[p] - mx);
    for (int64_t p = 0; p < n_pos; ++p) {
      for (int64_t i = 0; i < hd; ++i) out[h * hd + i] += s[p] / sum * c.v_deq[p * hd + i];
    }
  }
  return out;
}

std::vector<float> run(const Cache& c, const Paged& pg, const std::vector<float>& q, int64_t n_q,
                       int64_t n_pos, int64_t block_rows, float scale) {
  const KvLayout kv{c.type, c.row_stride, kHead * c.head_dim, block_rows, pg.blocks};
  // Poisoned scratch: the kernels must not depend on what it holds.
  std::vector<float> scratch(attend_scratch_floats(n_q, n_pos, c.head_dim), std::nanf(""));
  std::vector<float> out(static_cast<size_t>(n_q * c.head_dim), std::nanf(""));
  attend_group(q.data(), n_q, kv, c.head_dim, n_pos, scale, scratch.data(), out.data());
  return out;
}

// The outputs are weighted means of V rows of N(0, 1) values; f32 sums over
// thousands of positions and a float exp2 leave errors below 1e-6 (measured:
// at most 7e-7 on every path).
constexpr double kTolerance = 5e-6;

double max_error(const std::vector<float>& y, const std::vector<double>& ref) {
  double err = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double e = std::isfinite(y[i]) ? std::abs(y[i] - ref[i]) : INFINITY;
    err = std::max(err, e);
  }
  return err;
}

class AttendGroupTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(AttendGroupTest, MatchesReferenceAtEveryLevel) {
  const GgmlType type = GetParam();
  std::vector<int64_t> head_dims = {32, 64, 128};
  if (type != GgmlType::Q8_0) head_dims.insert(head_dims.end(), {48, 80, 96, 40});  // 40: scalar path only
  const std::vector<int64_t> n_qs = {1, 2, 4, 7};
  uint32_t seed = 1;
  for (int64_t hd : head_dims) {
    const int64_t max_pos = hd == 64 ? 5000 : 1100;
    const Cache cache = make_cache(type, hd, max_pos, seed++);
    const std::vector<float> q_all = [&] {
      std::mt19937 rng(seed++);
      std::normal_distribution<float> dist(0.0f, 1.0f);
      std::vector<float> q(static_cast<size_t>(7 * hd));
      for (float& x : q) x = dist(rng);
      return q;
    }();
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    std::vector<int64_t> n_poss = {1, 2, 15, 16, 17, 31, 32, 33, 100, 1100};
    if (max_pos == 5000) n_poss.push_back(5000);
    for (int64_t n_pos : n_poss) {
      for (int64_t n_q : n_qs) {
        const std::vector<float> q(q_all.begin(), q_all.begin() + n_q * hd);
        const std::vector<double> ref = reference(cache, q, n_q, n_pos, scale);
        for (int64_t block_rows : {int64_t{1}, int64_t{16}, int64_t{32}, n_pos}) {
          // One-row blocks over thousands of positions: slow in sanitizer
          // builds and no different from a few hundred.
          if (block_rows == 1 && n_pos > 100) continue;
          const Paged pg = page(cache, n_pos, block_rows);
          for (SimdLevel level : supported_levels()) {
            SimdGuard guard(level);
            const std::vector<float> y = run(cache, pg, q, n_q, n_pos, block_rows, scale);
            ASSERT_LT(max_error(y, ref), kTolerance)
                << traits(type).name << " " << simd_name(level) << " head_dim=" << hd << " n_q=" << n_q
                << " n_pos=" << n_pos << " block_rows=" << block_rows;
          }
        }
      }
    }
  }
}

// Scores spread over hundreds (keys 30x larger), so the softmax is nearly
// one-hot and the running maximum moves often, by far more than exp's range.
TEST_P(AttendGroupTest, PeakedSoftmax) {
  const GgmlType type = GetParam();
  const int64_t hd = 64, n_pos = 700, n_q = 4;
  const Cache cache = make_cache(type, hd, n_pos, 42, 30.0f);
  std::mt19937 rng(43);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(n_q * hd));
  for (float& x : q) x = dist(rng);
  const std::vector<double> ref = reference(cache, q, n_q, n_pos, 0.125f);
  const Paged pg = page(cache, n_pos, 16);
  for (SimdLevel level : supported_levels()) {
    SimdGuard guard(level);
    const std::vector<float> y = run(cache, pg, q, n_q, n_pos, 16, 0.125f);
    // Scores of several hundred keep about 1e-5 absolute precision in f32
    // (measured errors: up to 3e-5).
    EXPECT_LT(max_error(y, ref), 2e-4) << traits(type).name << " " << simd_name(level);
  }
}

INSTANTIATE_TEST_SUITE_P(KvTypes, AttendGroupTest,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::Q8_0),
                         [](const auto& info) { return std::string(traits(info.param).name); });

// out may be q itself (the outputs are written only once every row is read).
TEST(AttendGroup, OutputMayAliasQuery) {
  const int64_t hd = 64, n_pos = 77, n_q = 4;
  const Cache cache = make_cache(GgmlType::F16, hd, n_pos, 9);
  std::vector<float> q(static_cast<size_t>(n_q * hd));
  std::mt19937 rng(10);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& x : q) x = dist(rng);
  const std::vector<double> ref = reference(cache, q, n_q, n_pos, 0.125f);
  const Paged pg = page(cache, n_pos, n_pos);
  for (SimdLevel level : supported_levels()) {
    SimdGuard guard(level);
    std::vector<float> io = q;
    std::vector<float> scratch(attend_scratch_floats(n_q, n_pos, hd));
    const KvLayout kv{GgmlType::F16, cache.row_stride, kHead * hd, n_pos, pg.blocks};
    attend_group(io.data(), n_q, kv, hd, n_pos, 0.125f, scratch.data(), io.data());
    EXPECT_LT(max_error(io, ref), kTolerance) << simd_name(level);
  }
}

TEST(AttendGroup, NoPositionsGivesZeros) {
  std::vector<float> q(64, 1.0f), out(64, 1.0f), scratch(attend_scratch_floats(1, 0, 64));
  const KvLayout kv{GgmlType::F16, 128, 0, 16, {}};
  attend_group(q.data(), 1, kv, 64, 0, 0.125f, scratch.data(), out.data());
  EXPECT_EQ(out, std::vector<float>(64, 0.0f));
}

TEST(AttendGroup, ScratchDoesNotGrowWithPositions) {
  EXPECT_EQ(attend_scratch_floats(4, 1, 128), attend_scratch_floats(4, 1 << 20, 128));
}

}  // namespace
}  // namespace gs
