#include "observe/text_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace gs::obs::text {

namespace {

// Letters and underscore: what may start a name.
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Shared rule of metric and label names; `colon` allows ':' (metric names).
bool is_name(std::string_view s, bool colon) {
  if (s.empty() || is_digit(s[0])) return false;
  for (char c : s) {
    if (!is_name_start(c) && !is_digit(c) && !(colon && c == ':')) return false;
  }
  return true;
}

std::string sanitize_name(std::string_view s, bool colon) {
  std::string out;
  if (s.empty() || is_digit(s[0])) out += '_';
  for (char c : s) out += (is_name_start(c) || is_digit(c) || (colon && c == ':')) ? c : '_';
  return out;
}

// Length of the valid UTF-8 sequence starting at s[i] (shortest form, no
// surrogates, at most U+10FFFF, as Go's utf8.ValidString), or 0.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = byte(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

bool is_metric_name(std::string_view name) { return is_name(name, true); }

bool is_label_name(std::string_view name) { return is_name(name, false) && !name.starts_with("__"); }

std::string sanitize_metric_name(std::string_view name) { return sanitize_name(name, true); }

std::string sanitize_label_name(std::string_view name) {
  std::string out = sanitize_name(name, false);
  size_t underscores = 0;
  while (underscores < out.size() && out[underscores] == '_') ++underscores;
  if (underscores >= 2) out.erase(0, underscores - 1);
  return out;
}

std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD; resynchronise at the next byte
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    // Whole numbers (counts) as integers: "1000000", not to_chars' "1e+06".
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
    out.append(buf, r.ptr);
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, r.ptr);
  }
}

}  // namespace gs::obs::text
