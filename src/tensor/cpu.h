// Which SIMD kernels this CPU can run, chosen once at run time.
#pragma once

#include <optional>
#include <string_view>

namespace gs {

enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512Vnni = 2 };

// The best level this CPU supports.
SimdLevel detect_simd();
// The level kernels use: detect_simd(), lowered by GENSTACK_SIMD=scalar|avx2|avx512
// or by force_simd() (tests run every path this way).
SimdLevel active_simd();
void force_simd(std::optional<SimdLevel> level);  // nullopt restores the default
std::string_view simd_name(SimdLevel level);

}  // namespace gs
