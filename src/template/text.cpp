#include "template/text.h"

namespace gs::tmpl::text {

char32_t decode(std::string_view s, size_t i, size_t* len) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  *len = 1;
  if (c < 0x80) return c;
  size_t n = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (c >= 0xF5) n = 0;
  if (n == 0 || i + n > s.size()) return 0xFFFD;
  char32_t cp = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // Overlong forms and surrogates are invalid: one replacement per byte.
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return 0xFFFD;
  }
  *len = n;
  return cp;
}

void append_utf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0, len = 0; i < s.size(); i += len, ++n) decode(s, i, &len);
  return n;
}

std::vector<size_t> char_offsets(std::string_view s) {
  std::vector<size_t> out;
  size_t len = 0;
  for (size_t i = 0; i < s.size(); i += len) {
    out.push_back(i);
    decode(s, i, &len);
  }
  out.push_back(s.size());
  return out;
}

bool is_space(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

template <typename Pred>
std::string_view trim_if(std::string_view s, bool left, bool right, Pred strip) {
  size_t begin = 0, end = s.size(), len = 0;
  if (left) {
    while (begin < end && strip(decode(s, begin, &len))) begin += len;
  }
  if (right) {
    // Walk forward once to find character starts, then strip from the back.
    std::vector<size_t> starts;
    for (size_t i = begin; i < end; i += len) {
      starts.push_back(i);
      decode(s, i, &len);
    }
    while (!starts.empty() && strip(decode(s, starts.back(), &len))) {
      end = starts.back();
      starts.pop_back();
    }
  }
  return s.substr(begin, end - begin);
}

}  // namespace

std::string_view trim(std::string_view s, bool left, bool right) { return trim_if(s, left, right, is_space); }

std::string_view trim_chars(std::string_view s, std::string_view chars, bool left, bool right) {
  std::vector<char32_t> set;
  for (size_t i = 0, len = 0; i < chars.size(); i += len) set.push_back(decode(chars, i, &len));
  return trim_if(s, left, right, [&](char32_t cp) {
    for (char32_t c : set) {
      if (c == cp) return true;
    }
    return false;
  });
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
}  // namespace

std::string title(std::string_view s) {
  std::string out(s);
  bool in_word = false;
  for (char& c : out) {
    if (is_alpha(c)) {
      c = in_word ? ascii_lower(std::string(1, c))[0] : ascii_upper(std::string(1, c))[0];
      in_word = true;
    } else {
      // Python's title() continues a word only across cased characters; any
      // non-ASCII byte also continues it so multi-byte letters do not split words.
      in_word = static_cast<unsigned char>(c) >= 0x80 && in_word;
    }
  }
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out = ascii_lower(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

}  // namespace gs::tmpl::text
