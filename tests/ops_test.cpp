// The element-wise ops' SIMD versions against their scalar definitions.
#include "tensor/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <vector>

#include "tensor/cpu.h"
#include "tensor/quants.h"

namespace gs {
namespace {

struct SimdGuard {
  explicit SimdGuard(SimdLevel level) { force_simd(level); }
  ~SimdGuard() { force_simd(std::nullopt); }
};

// Ordinary activations, then the edges: zeros, both signs of large
// magnitudes (exp must neither overflow nor lose the sign), a tail that is
// not a whole vector.
std::vector<float> inputs() {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(203);
  for (float& x : v) x = dist(rng);
  const float edges[] = {0.0f,  -0.0f,  1e-30f, -1e-30f, 20.0f, -20.0f,
                         88.0f, -88.0f, 150.0f, -150.0f, 1e30f, -1e30f};
  for (size_t i = 0; i < std::size(edges); ++i) v[i] = edges[i];
  return v;
}

TEST(Ops, SiluMulMatchesDefinitionAtEveryLevel) {
  const std::vector<float> g = inputs();
  std::vector<float> up(g.size());
  for (size_t i = 0; i < up.size(); ++i) up[i] = 0.5f + static_cast<float>(i % 7);
  for (int l = 0; l <= static_cast<int>(detect_simd()); ++l) {
    SimdGuard guard(static_cast<SimdLevel>(l));
    std::vector<float> out = g;
    silu_mul(out.data(), up.data(), static_cast<int64_t>(out.size()));
    for (size_t i = 0; i < g.size(); ++i) {
      const double want = double{g[i]} / (1.0 + std::exp(-double{g[i]})) * up[i];
      EXPECT_NEAR(out[i], want, 1e-6 * std::fabs(want) + 1e-30) << "level " << l << " g " << g[i];
    }
  }
}

TEST(Ops, F16CacheRowsMatchScalarConversion) {
  const std::vector<float> x = inputs();
  std::vector<fp16_t> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = fp32_to_fp16(x[i]);
  for (int l = 0; l <= static_cast<int>(detect_simd()); ++l) {
    SimdGuard guard(static_cast<SimdLevel>(l));
    std::vector<fp16_t> got(x.size());
    store_kv_row(GgmlType::F16, x.data(), got.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(got, want) << "level " << l;
  }
}

}  // namespace
}  // namespace gs
