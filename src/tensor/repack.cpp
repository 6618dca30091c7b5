#include "tensor/repack.h"

#include <cstdlib>
#include <cstring>

#include "tensor/cpu.h"

namespace gs {
namespace {

bool repack_disabled() {
  const char* env = std::getenv("GENSTACK_REPACK");
  return env && std::strcmp(env, "0") == 0;
}

// Element e (< 32) of a Q4_0 block, as stored (q + 8).
uint8_t q4_0_nibble(const BlockQ4_0& b, int e) { return e < 16 ? b.qs[e] & 0xF : b.qs[e - 16] >> 4; }

void repack_q4_0x4(const WeightView& w, uint8_t* dst) {
  const int64_t nb = w.cols / kQK;
  const auto* src = static_cast<const BlockQ4_0*>(w.data);
  auto* groups = reinterpret_cast<BlockQ4_0x4*>(dst);
  for (int64_t g = 0; g < w.rows / 4; ++g) {
    for (int64_t i = 0; i < nb; ++i) {
      BlockQ4_0x4& b = groups[g * nb + i];
      std::memset(b.qs, 0, sizeof(b.qs));
      for (int r = 0; r < 4; ++r) {
        const BlockQ4_0& s = src[(4 * g + r) * nb + i];
        b.d[r] = s.d;
        for (int e = 0; e < kQK; ++e) {
          const uint8_t q = q4_0_nibble(s, e);
          b.qs[q4_0x4_at(r, e)] |= e < 16 ? q : static_cast<uint8_t>(q << 4);
        }
      }
    }
  }
}

}  // namespace

WeightLayout preferred_layout(const WeightView& w) {
  if (w.layout != WeightLayout::kRows || repack_disabled()) return w.layout;
  // AVX-512 VNNI multiplies Q8_0 rows as they are in one instruction a block.
  if (w.rows % 4 != 0 || active_simd() != SimdLevel::kAvx2) return WeightLayout::kRows;
  if (w.type == GgmlType::Q8_0) return WeightLayout::kQ8_0x4;
  if (w.type == GgmlType::Q4_0) return WeightLayout::kQ4_0x4;
  return WeightLayout::kRows;
}

WeightView repack(const WeightView& w, WeightLayout layout, uint8_t* dst) {
  WeightView out = w;
  out.data = dst;
  out.layout = layout;
  if (layout == WeightLayout::kRows) {
    std::memcpy(dst, w.data, row_bytes(w.type, w.cols) * static_cast<size_t>(w.rows));
    return out;
  }
  if (layout == WeightLayout::kQ4_0x4) {
    repack_q4_0x4(w, dst);
    return out;
  }
  const int64_t nb = w.cols / kQK;
  const auto* src = static_cast<const BlockQ8_0*>(w.data);
  auto* groups = reinterpret_cast<BlockQ8_0x4*>(dst);
  for (int64_t g = 0; g < w.rows / 4; ++g) {
    for (int64_t i = 0; i < nb; ++i) {
      BlockQ8_0x4& b = groups[g * nb + i];
      for (int r = 0; r < 4; ++r) {
        const BlockQ8_0& s = src[(4 * g + r) * nb + i];
        b.d[r] = s.d;
        for (int c = 0; c < 4; ++c) std::memcpy(b.qs + q8_0x4_at(r, 8 * c), s.qs + 8 * c, 8);
      }
    }
  }
  return out;
}

void unpack_row(const WeightView& w, int64_t row, uint8_t* out) {
  const int64_t nb = w.cols / kQK, r = row % 4;
  if (w.layout == WeightLayout::kQ8_0x4) {
    const auto* group = static_cast<const BlockQ8_0x4*>(w.data) + (row / 4) * nb;
    auto* blocks = reinterpret_cast<BlockQ8_0*>(out);
    for (int64_t i = 0; i < nb; ++i) {
      blocks[i].d = group[i].d[r];
      for (int c = 0; c < 4; ++c) std::memcpy(blocks[i].qs + 8 * c, group[i].qs + q8_0x4_at(r, 8 * c), 8);
    }
  } else if (w.layout == WeightLayout::kQ4_0x4) {
    const auto* group = static_cast<const BlockQ4_0x4*>(w.data) + (row / 4) * nb;
    auto* blocks = reinterpret_cast<BlockQ4_0*>(out);
    for (int64_t i = 0; i < nb; ++i) {
      blocks[i].d = group[i].d[r];
      for (int e = 0; e < 16; ++e) {  // GGUF: elements e and e + 16 share byte e
        const uint8_t lo = group[i].qs[q4_0x4_at(r, e)] & 0xF;
        const uint8_t hi = group[i].qs[q4_0x4_at(r, e + 16)] >> 4;
        blocks[i].qs[e] = static_cast<uint8_t>(lo | (hi << 4));
      }
    }
  } else {
    const size_t stride = row_bytes(w.type, w.cols);
    std::memcpy(out, static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row) * stride, stride);
  }
}

}  // namespace gs
