// Text and JSON dumps of a parsed GGUF header.
#include "gguf/inspect.h"

#include <cmath>

#include <fmt/ranges.h>

namespace gs::gguf {
namespace {

constexpr size_t kShownItems = 8;          // array elements printed in the text dump
constexpr size_t kShownStringBytes = 120;  // long strings (chat templates) are cut

// Text form of a string: control characters escaped so every entry stays on
// one line, and long strings cut.
std::string text_string(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, std::min(s.size(), kShownStringBytes))) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  if (s.size() > kShownStringBytes) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

// Shortest round-trip form, with ".0" kept on whole numbers so floats read as floats.
std::string float_text(double d) {
  std::string s = fmt::format("{}", d);
  if (s.find_first_not_of("-0123456789") == std::string::npos) s += ".0";
  return s;
}

std::string integer_text(ValueType type, int64_t v) {
  if (type == ValueType::BOOL) return v ? "true" : "false";
  if (type == ValueType::UINT64) return fmt::format("{}", static_cast<uint64_t>(v));
  return fmt::format("{}", v);
}

std::string value_text(const Value& v);

std::string array_text(const Value& v) {
  size_t n = v.array_size();
  std::vector<std::string> items;
  for (size_t i = 0; i < std::min(n, kShownItems); ++i) {
    switch (v.array_type) {
      case ValueType::STRING:
        items.push_back(fmt::format("\"{}\"", text_string(v.strings[i])));
        break;
      case ValueType::ARRAY:
        items.push_back(value_text(v.arrays[i]));
        break;
      case ValueType::FLOAT32:
      case ValueType::FLOAT64:
        items.push_back(float_text(v.numbers[i]));
        break;
      default:
        items.push_back(integer_text(v.array_type, v.integers[i]));
        break;
    }
  }
  std::string_view more = n > kShownItems ? ", ..." : "";
  return fmt::format("[{} items] [{}{}]", n, fmt::join(items, ", "), more);
}

std::string value_text(const Value& v) {
  switch (v.type) {
    case ValueType::STRING:
      return text_string(v.string);
    case ValueType::ARRAY:
      return array_text(v);
    case ValueType::FLOAT32:
    case ValueType::FLOAT64:
      return float_text(v.number);
    default:
      return integer_text(v.type, v.integer);
  }
}

std::string dims_text(const std::vector<int64_t>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

// ---- JSON ------------------------------------------------------------------------

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
  if (len == 0 || c > 0xf4 || c == 0xc0 || c == 0xc1 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  unsigned char c1 = byte(i + 1);
  if (c == 0xe0 && c1 < 0xa0) return 0;   // overlong
  if (c == 0xed && c1 >= 0xa0) return 0;  // surrogate
  if (c == 0xf0 && c1 < 0x90) return 0;   // overlong
  if (c == 0xf4 && c1 >= 0x90) return 0;  // past U+10FFFF
  return len;
}

void append_json_number(std::string& out, double d) {
  // JSON has no NaN or infinity.
  out += std::isfinite(d) ? fmt::format("{}", d) : "null";
}

void append_json_integer(std::string& out, ValueType type, int64_t v) {
  if (type == ValueType::BOOL) {
    out += v ? "true" : "false";
  } else {
    out += integer_text(type, v);
  }
}

void append_json_value(std::string& out, const Value& v);

void append_json_array(std::string& out, const Value& v) {
  out += '[';
  for (size_t i = 0; i < v.array_size(); ++i) {
    if (i) out += ',';
    switch (v.array_type) {
      case ValueType::STRING:
        append_json_string(out, v.strings[i]);
        break;
      case ValueType::ARRAY:
        append_json_value(out, v.arrays[i]);
        break;
      case ValueType::FLOAT32:
      case ValueType::FLOAT64:
        append_json_number(out, v.numbers[i]);
        break;
      default:
        append_json_integer(out, v.array_type, v.integers[i]);
        break;
    }
  }
  out += ']';
}

void append_json_value(std::string& out, const Value& v) {
  switch (v.type) {
    case ValueType::STRING:
      append_json_string(out, v.string);
      break;
    case ValueType::ARRAY:
      append_json_array(out, v);
      break;
    case ValueType::FLOAT32:
    case ValueType::FLOAT64:
      append_json_number(out, v.number);
      break;
    default:
      append_json_integer(out, v.type, v.integer);
      break;
  }
}

void append_json_metadata(std::string& out, const File& f) {
  out += "  \"metadata\": {";
  const char* sep = "\n";
  for (const auto& [key, value] : f.metadata()) {
    out += sep;
    sep = ",\n";
    out += "    ";
    append_json_string(out, key);
    out += fmt::format(": {{\"type\": \"{}\", ", value_type_name(value.type));
    if (value.type == ValueType::ARRAY) {
      out += fmt::format("\"element_type\": \"{}\", ", value_type_name(value.array_type));
    }
    out += "\"value\": ";
    append_json_value(out, value);
    out += '}';
  }
  out += f.metadata().empty() ? "},\n" : "\n  },\n";
}

void append_json_tensors(std::string& out, const File& f) {
  out += "  \"tensors\": [";
  const char* sep = "\n";
  for (const TensorInfo& t : f.tensors()) {
    out += sep;
    sep = ",\n";
    out += "    {\"name\": ";
    append_json_string(out, t.name);
    out += fmt::format(", \"type\": \"{}\", \"dims\": [{}], \"offset\": {}, \"size\": {}}}",
                       traits(t.type).name, fmt::join(t.dims, ", "), t.offset, t.size_bytes);
  }
  out += f.tensors().empty() ? "]\n" : "\n  ]\n";
}

}  // namespace

std::string describe_gguf(const File& f, bool show_tensors) {
  std::string out =
      fmt::format("GGUF v{}: {} keys, {} tensors (alignment {}, tensor data at {}, {} bytes)\n", f.version(),
                  f.metadata().size(), f.tensors().size(), f.alignment(), f.data_offset(), f.file_size());
  for (const auto& [key, value] : f.metadata()) {
    out += fmt::format("  {} = {}\n", text_string(key), value_text(value));
  }
  if (!show_tensors) return out;
  for (const TensorInfo& t : f.tensors()) {
    out += fmt::format("  {:32} {:24} {:6} @{} ({} bytes)\n", text_string(t.name), dims_text(t.dims),
                       traits(t.type).name, t.offset, t.size_bytes);
  }
  return out;
}

std::string describe_gguf_json(const File& f) {
  std::string out = "{\n";
  out +=
      fmt::format("  \"version\": {},\n  \"alignment\": {},\n  \"data_offset\": {},\n  \"file_size\": {},\n",
                  f.version(), f.alignment(), f.data_offset(), f.file_size());
  append_json_metadata(out, f);
  append_json_tensors(out, f);
  out += "}\n";
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = utf8_sequence_length(s, i);
      out += len ? s.substr(i, len) : std::string_view("\\ufffd");
      i += len ? len : 1;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

}  // namespace gs::gguf
