#include "core/utf8.h"

namespace gs {

size_t decode_utf8_char(std::string_view text, size_t pos, uint32_t* cp_out) {
  const auto b0 = static_cast<uint8_t>(text[pos]);
  uint32_t cp;
  size_t len;
  uint32_t min;
  if (b0 < 0x80) {
    cp = b0, len = 1, min = 0;
  } else if (b0 >= 0xC0 && b0 < 0xE0) {
    cp = b0 & 0x1F, len = 2, min = 0x80;
  } else if (b0 >= 0xE0 && b0 < 0xF0) {
    cp = b0 & 0x0F, len = 3, min = 0x800;
  } else if (b0 >= 0xF0 && b0 < 0xF5) {
    cp = b0 & 0x07, len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (pos + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(text[pos + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  if (cp_out) *cp_out = cp;
  return len;
}

bool decode_utf8(std::string_view text, std::vector<uint32_t>* out) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp;
    const size_t len = decode_utf8_char(text, i, &cp);
    if (len == 0) return false;
    if (out) out->push_back(cp);
    i += len;
  }
  return true;
}

bool is_valid_utf8(std::string_view text) { return decode_utf8(text, nullptr); }

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const size_t len = decode_utf8_char(bytes, i, nullptr);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace gs
