// Run-time CPU feature detection. The kernels for each level live in files
// compiled with that level's ISA flags; nothing may call them before this
// file has said the CPU (and the OS, which must save the wider registers on a
// context switch) supports them.
#include "tensor/cpu.h"

#include <cpuid.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace gs {
namespace {

struct CpuidRegs {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) {
  CpuidRegs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx)) return CpuidRegs{};
  return r;
}

// XCR0: which register states the OS saves. Only valid when OSXSAVE is set.
uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool bit(uint32_t word, int n) { return (word >> n) & 1u; }

SimdLevel detect_uncached() {
  const CpuidRegs l0 = cpuid(0, 0);
  if (l0.eax < 7) return SimdLevel::kScalar;
  const CpuidRegs l1 = cpuid(1, 0);
  const CpuidRegs l7 = cpuid(7, 0);
  if (!bit(l1.ecx, 27)) return SimdLevel::kScalar;  // OSXSAVE: xgetbv usable
  const uint64_t xcr0 = xgetbv0();

  // The AVX2 files are built with -mavx2 -mfma -mf16c -mbmi2.
  const bool os_ymm = (xcr0 & 0x6) == 0x6;  // SSE and AVX state
  const bool avx2 = os_ymm && bit(l1.ecx, 28) /*AVX*/ && bit(l1.ecx, 12) /*FMA*/ &&
                    bit(l1.ecx, 29) /*F16C*/ && bit(l7.ebx, 5) /*AVX2*/ && bit(l7.ebx, 8) /*BMI2*/;
  if (!avx2) return SimdLevel::kScalar;

  // The AVX-512 files add F, BW, VL, DQ and VNNI; the OS must also save the
  // opmask and all 32 zmm registers (XCR0 bits 5, 6, 7).
  const bool os_zmm = (xcr0 & 0xE6) == 0xE6;
  const bool avx512 = os_zmm && bit(l7.ebx, 16) /*F*/ && bit(l7.ebx, 17) /*DQ*/ && bit(l7.ebx, 30) /*BW*/ &&
                      bit(l7.ebx, 31) /*VL*/ && bit(l7.ecx, 11) /*VNNI*/;
  return avx512 ? SimdLevel::kAvx512Vnni : SimdLevel::kAvx2;
}

std::optional<SimdLevel> parse_level(std::string_view s) {
  if (s == "scalar") return SimdLevel::kScalar;
  if (s == "avx2") return SimdLevel::kAvx2;
  if (s == "avx512") return SimdLevel::kAvx512Vnni;
  return std::nullopt;
}

SimdLevel min_level(SimdLevel a, SimdLevel b) { return static_cast<int>(a) < static_cast<int>(b) ? a : b; }

// The level from the environment, read once: GENSTACK_SIMD can only lower it.
SimdLevel default_level() {
  static const SimdLevel level = [] {
    SimdLevel l = detect_simd();
    if (const char* env = std::getenv("GENSTACK_SIMD")) {
      if (auto wanted = parse_level(env)) l = min_level(l, *wanted);
    }
    return l;
  }();
  return level;
}

// -1: no override; otherwise a SimdLevel value set by force_simd().
std::atomic<int> g_forced{-1};

}  // namespace

SimdLevel detect_simd() {
  static const SimdLevel level = detect_uncached();
  return level;
}

SimdLevel active_simd() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  if (forced >= 0) return min_level(static_cast<SimdLevel>(forced), detect_simd());
  return default_level();
}

void force_simd(std::optional<SimdLevel> level) {
  g_forced.store(level ? static_cast<int>(*level) : -1, std::memory_order_relaxed);
}

std::string_view simd_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar:
      return "scalar";
    case SimdLevel::kAvx2:
      return "avx2";
    case SimdLevel::kAvx512Vnni:
      return "avx512";
  }
  return "unknown";
}

}  // namespace gs
