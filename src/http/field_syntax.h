// The bits of HTTP syntax (RFC 9110 / 9112) that both message parsers need:
// tokens, optional whitespace, comma-separated lists, Content-Length and
// chunk-size values.
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/ascii.h"

namespace gs::http {

inline constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = table[c - 'a' + 'A'] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

inline bool is_token_char(char c) { return kTokenChars[static_cast<unsigned char>(c)]; }

inline bool is_token(std::string_view s) {
  bool ok = !s.empty();
  for (char c : s) ok &= is_token_char(c);  // no branch per character
  return ok;
}

// Without the optional whitespace (spaces and tabs) around it.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether the comma-separated list `value` holds `token` (any case).
inline bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (ascii_iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// A whole string of digits in `base` (no sign, no prefix); nullopt when empty, malformed or
// beyond 64 bits.
inline std::optional<uint64_t> parse_unsigned(std::string_view digits, int base = 10) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

// The longest chunk-size line either parser reads: a size in hex and its extensions.
inline constexpr size_t kMaxChunkLine = 1024;

// The size of a chunk-size line ("1a;name=value"): extensions are read past.
inline std::optional<uint64_t> parse_chunk_size(std::string_view line) {
  return parse_unsigned(trim(line.substr(0, line.find(';'))), 16);
}

}  // namespace gs::http
