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

}  // namespace

WeightLayout preferred_layout(const WeightView& w) {
  if (w.layout != WeightLayout::kRows || repack_disabled()) return w.layout;
  // AVX-512 VNNI multiplies Q8_0 rows as they are in one instruction a block.
  if (w.type == GgmlType::Q8_0 && w.rows % 4 == 0 && active_simd() == SimdLevel::kAvx2) {
    return WeightLayout::kQ8_0x4;
  }
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
  const int64_t nb = w.cols / kQK;
  const auto* src = static_cast<const BlockQ8_0*>(w.data);
  auto* groups = reinterpret_cast<BlockQ8_0x4*>(dst);
  for (int64_t g = 0; g < w.rows / 4; ++g) {
    for (int64_t i = 0; i < nb; ++i) {
      BlockQ8_0x4& b = groups[g * nb + i];
      for (int r = 0; r < 4; ++r) {
        const BlockQ8_0& s = src[(4 * g + r) * nb + i];
        b.d[r] = s.d;
        for (int c = 0; c < 4; ++c) std::memcpy(b.qs + 32 * c + 8 * r, s.qs + 8 * c, 8);
      }
    }
  }
  return out;
}

void unpack_q8_0x4_row(const WeightView& w, int64_t row, BlockQ8_0* out) {
  const int64_t nb = w.cols / kQK, r = row % 4;
  const auto* group = static_cast<const BlockQ8_0x4*>(w.data) + (row / 4) * nb;
  for (int64_t i = 0; i < nb; ++i) {
    out[i].d = group[i].d[r];
    for (int c = 0; c < 4; ++c) std::memcpy(out[i].qs + 8 * c, group[i].qs + 32 * c + 8 * r, 8);
  }
}

}  // namespace gs
