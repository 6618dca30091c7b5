#include "grammar/json_values.h"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "core/utf8.h"

namespace gs::grammar {

namespace json = boost::json;

void append_string_content(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : text) {
    const auto c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
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
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
}

bool append_canonical(const json::value& value, std::string& out) {
  switch (value.kind()) {
    case json::kind::null:
      out += "null";
      return true;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return true;
    case json::kind::int64:
      out += fmt::format("{}", value.get_int64());
      return true;
    case json::kind::uint64:
      out += fmt::format("{}", value.get_uint64());
      return true;
    case json::kind::double_: {
      const double d = value.get_double();
      if (!std::isfinite(d)) return false;
      // Integral values print without a fraction so that 2.0 and 2 are one literal.
      if (d == std::trunc(d) && std::fabs(d) < 1e15) {
        out += fmt::format("{}", static_cast<int64_t>(d));
      } else {
        out += fmt::format("{}", d);
      }
      return true;
    }
    case json::kind::string: {
      const json::string& s = value.get_string();
      if (!is_valid_utf8(s)) return false;
      out += '"';
      append_string_content(s, out);
      out += '"';
      return true;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& v : value.get_array()) {
        if (!first) out += ',';
        first = false;
        if (!append_canonical(v, out)) return false;
      }
      out += ']';
      return true;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : value.get_object()) {
        if (!first) out += ',';
        first = false;
        if (!is_valid_utf8(k)) return false;
        out += '"';
        append_string_content(k, out);
        out += "\":";
        if (!append_canonical(v, out)) return false;
      }
      out += '}';
      return true;
    }
  }
  return false;
}

double as_double(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return static_cast<double>(v.get_int64());
    case json::kind::uint64:
      return static_cast<double>(v.get_uint64());
    case json::kind::double_:
      return v.get_double();
    default:
      return 0;
  }
}

bool is_integer(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && std::isfinite(v.get_double()) && v.get_double() == std::trunc(v.get_double());
}

bool json_equal(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
    if (a.is_int64() && b.is_uint64())
      return a.get_int64() >= 0 && static_cast<uint64_t>(a.get_int64()) == b.get_uint64();
    if (a.is_uint64() && b.is_int64())
      return b.get_int64() >= 0 && static_cast<uint64_t>(b.get_int64()) == a.get_uint64();
    return as_double(a) == as_double(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const json::array& x = a.get_array();
      const json::array& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!json_equal(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& x = a.get_object();
      const json::object& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x) {
        const json::value* w = y.if_contains(k);
        if (!w || !json_equal(v, *w)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

}  // namespace gs::grammar
