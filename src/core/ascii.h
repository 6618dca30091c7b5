// ASCII-only case folding for protocol tokens (header names, auth schemes,
// file names): locale-independent, bytes >= 0x80 unchanged.
#pragma once

#include <string>
#include <string_view>

namespace gs {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace gs
