// Helpers shared by the GGUF reader, writer and inspector; not part of the
// module's interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gs::gguf::internal {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr const char* kAlignmentKey = "general.alignment";

// Keys and names come from untrusted files; errors quoting them must stay one
// short line, so control bytes are escaped and long names cut.
std::string printable(std::string_view s, size_t max_len = 96);

// Fixed size in the file of a scalar value type; 0 for STRING and ARRAY.
size_t scalar_size(uint32_t raw_type);
bool is_integer_type(uint32_t raw_type);  // the eight integer types, not BOOL
bool is_valid_value_type(uint32_t raw_type);

constexpr bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
constexpr uint64_t align_up(uint64_t v, uint64_t alignment) {
  return (v + alignment - 1) / alignment * alignment;  // callers keep v + alignment small
}

}  // namespace gs::gguf::internal
