// attend_group: argument checks, scratch layout, the choice of kernel, and
// the scalar kernel (any head size; also the reference the SIMD paths are
// tested against in spirit: same online softmax, one position at a time).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tensor/attention.h"
#include "tensor/cpu.h"
#include "tensor/ops.h"
#include "tensor/quants.h"

namespace gs {
namespace {

constexpr float kLog2e = 1.4426950408889634f;

// Scratch pieces start on 64-byte lines so the SIMD kernels' stores of one
// head never share a line with another piece.
int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

struct Sizes {
  int64_t qs, acc, ml, p, part, row;
  int64_t total() const { return qs + acc + 2 * ml + p + part + row; }
};

Sizes sizes(int64_t n_q, int64_t head_dim) {
  return {round16(n_q * head_dim),    round16(n_q * head_dim),   round16(n_q),
          round16(n_q * attn::kTile), attn::kMaxGroup * 16 * 16, round16(head_dim)};
}

// One position at a time; exp() per position and head. Slow, but only the
// fallback for CPUs without AVX2 and for head sizes the SIMD paths do not take.
void attend_scalar(const attn::Job& job, float* row) {
  const int64_t hd = job.head_dim;
  const size_t head_bytes = row_bytes(job.type, job.offset);
  float* e = job.p;            // per head: weight of this position
  float* c = job.p + job.n_q;  // per head: rescale of the outputs so far
  for (int64_t pos = 0; pos < job.n_pos; ++pos) {
    const KvBlock& block = job.blocks[pos / job.block_rows];
    const size_t at = static_cast<size_t>(pos % job.block_rows) * job.row_stride + head_bytes;
    dequantize_row(job.type, block.k + at, row, hd);
    for (int64_t h = 0; h < job.n_q; ++h) {
      float s = 0.0f;
      for (int64_t i = 0; i < hd; ++i) s += job.qs[h * hd + i] * row[i];
      const float m_new = std::max(job.m[h], s);
      c[h] = std::exp2(job.m[h] - m_new);  // 0 at the first position (m = -inf)
      e[h] = std::exp2(s - m_new);
      job.l[h] = job.l[h] * c[h] + e[h];
      job.m[h] = m_new;
    }
    dequantize_row(job.type, block.v + at, row, hd);
    for (int64_t h = 0; h < job.n_q; ++h) {
      float* acc = job.acc + h * hd;
      for (int64_t i = 0; i < hd; ++i) acc[i] = acc[i] * c[h] + e[h] * row[i];
    }
  }
}

}  // namespace

size_t attend_scratch_floats(int64_t n_q, int64_t /*n_pos*/, int64_t head_dim) {
  return static_cast<size_t>(sizes(n_q, head_dim).total() + 15);  // + alignment
}

void attend_group(const float* q, int64_t n_q, const KvLayout& kv, int64_t head_dim, int64_t n_pos,
                  float scale, float* scratch, float* out) {
  const int64_t nq_hd = n_q * head_dim;
  if (n_pos <= 0) {
    std::fill(out, out + nq_hd, 0.0f);
    return;
  }
  const Sizes sz = sizes(n_q, head_dim);
  auto* base = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  attn::Job job;
  job.n_q = n_q;
  job.type = kv.type;
  job.row_stride = kv.row_stride;
  job.offset = kv.offset;
  job.block_rows = kv.block_rows;
  job.blocks = kv.blocks.data();
  job.head_dim = head_dim;
  job.n_pos = n_pos;
  job.qs = base;
  job.acc = job.qs + sz.qs;
  job.m = job.acc + sz.acc;
  job.l = job.m + sz.ml;
  job.p = job.l + sz.ml;
  job.part = job.p + sz.p;
  float* row = job.part + sz.part;

  // Scores in base 2: exp(x) = exp2(x * log2(e)), folded into q once.
  const float q_scale = scale * kLog2e;
  for (int64_t i = 0; i < nq_hd; ++i) job.qs[i] = q[i] * q_scale;
  std::fill(job.acc, job.acc + nq_hd, 0.0f);
  std::fill(job.m, job.m + n_q, -INFINITY);
  std::fill(job.l, job.l + n_q, 0.0f);

  const SimdLevel level = active_simd();
  if (head_dim % 16 == 0 && level >= SimdLevel::kAvx512Vnni) {
    attn::attend_avx512(job);
  } else if (head_dim % 16 == 0 && level >= SimdLevel::kAvx2) {
    attn::attend_avx2(job);
  } else {
    attend_scalar(job, row);
  }
  for (int64_t h = 0; h < n_q; ++h) {
    const float inv = 1.0f / job.l[h];
    for (int64_t i = 0; i < head_dim; ++i) out[h * head_dim + i] = job.acc[h * head_dim + i] * inv;
  }
}

}  // namespace gs
