#include "template/format.h"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>

#include "template/text.h"

namespace gs::tmpl {

namespace {

Status too_long(size_t limit) { return Error("output longer than {} bytes", limit); }
Status too_deep() { return Error("value nested too deeply"); }

// JSON.stringify's string escaping; with ensure_ascii every code point past
// 0x7E becomes \uXXXX (UTF-16 pairs past the BMP), as Python's json does.
void append_json_string(std::string_view s, bool ensure_ascii, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto hex4 = [&](uint32_t u) {
    out->append("\\u");
    for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(u >> shift) & 0xF]);
  };
  out->push_back('"');
  for (size_t i = 0, len = 0; i < s.size(); i += len) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    len = 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        continue;
      case '\\':
        out->append("\\\\");
        continue;
      case '\b':
        out->append("\\b");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      hex4(c);
    } else if (ensure_ascii && c >= 0x7F) {
      const char32_t cp = text::decode(s, i, &len);
      if (cp >= 0x10000) {
        hex4(0xD800 + ((cp - 0x10000) >> 10));
        hex4(0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        hex4(cp);
      }
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

struct JsonWriter {
  const JsonStyle& style;
  std::string* out;
  size_t limit;
  std::string item_sep;

  Status write(const Value& v, int depth, int budget) {
    if (budget <= 0) return too_deep();
    if (out->size() > limit) return too_long(limit);
    switch (v.kind()) {
      case Value::Kind::kUndefined:
        out->append(style.undefined_as_null ? "null" : "undefined");
        return Status::Ok();
      case Value::Kind::kNone:
        out->append("null");
        return Status::Ok();
      case Value::Kind::kBool:
        out->append(v.as_bool() ? "true" : "false");
        return Status::Ok();
      case Value::Kind::kInt:
        out->append(std::to_string(v.as_int()));
        return Status::Ok();
      case Value::Kind::kFloat:
        out->append(json_number(v.as_float()));
        return Status::Ok();
      case Value::Kind::kString:
        append_json_string(v.as_string(), style.ensure_ascii, out);
        return Status::Ok();
      case Value::Kind::kList:
        return write_list(v.as_list(), depth, budget);
      case Value::Kind::kDict:
      case Value::Kind::kNamespace:
        return write_dict(v.as_dict(), depth, budget);
      case Value::Kind::kFunction:
        return Error("cannot convert a function to JSON");
    }
    return Status::Ok();
  }

  void newline(int depth) {
    if (style.indent < 0) return;
    out->push_back('\n');
    out->append(static_cast<size_t>(style.indent) * static_cast<size_t>(depth), ' ');
  }

  Status write_list(const List& items, int depth, int budget) {
    // Empty containers stay [] and {} even when indenting, as in Python's json.
    out->push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out->append(item_sep);
      newline(depth + 1);
      GS_RETURN_IF_ERROR(write(items[i], depth + 1, budget - 1));
    }
    if (!items.empty()) newline(depth);
    out->push_back(']');
    return Status::Ok();
  }

  Status write_dict(const Dict& dict, int depth, int budget) {
    std::vector<const std::pair<std::string, Value>*> entries;
    for (const auto& e : dict.entries()) entries.push_back(&e);
    if (style.sort_keys) {
      std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
    }
    out->push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out->append(item_sep);
      newline(depth + 1);
      append_json_string(entries[i]->first, style.ensure_ascii, out);
      out->append(style.key_separator);
      GS_RETURN_IF_ERROR(write(entries[i]->second, depth + 1, budget - 1));
    }
    if (!entries.empty()) newline(depth);
    out->push_back('}');
    return Status::Ok();
  }
};

Status append_text(const Value& v, std::string* out, size_t limit, int max_depth, const char* none_text) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      break;
    case Value::Kind::kNone:
      out->append(none_text);
      break;
    case Value::Kind::kBool:
      out->append(v.as_bool() ? "true" : "false");
      break;
    case Value::Kind::kInt:
      out->append(std::to_string(v.as_int()));
      break;
    case Value::Kind::kFloat:
      out->append(format_float(v.as_float()));
      break;
    case Value::Kind::kString:
      if (out->size() + v.as_string().size() > limit) return too_long(limit);
      out->append(v.as_string());
      break;
    case Value::Kind::kFunction:
      out->append("<function " + v.as_function().name + ">");
      break;
    default: {
      JsonStyle style;
      style.undefined_as_null = false;
      GS_RETURN_IF_ERROR(append_json(v, style, out, limit, max_depth));
    }
  }
  if (out->size() > limit) return too_long(limit);
  return Status::Ok();
}

}  // namespace

Status append_output(const Value& v, std::string* out, size_t limit, int max_depth) {
  return append_text(v, out, limit, max_depth, "");
}

Status append_string(const Value& v, std::string* out, size_t limit, int max_depth) {
  return append_text(v, out, limit, max_depth, "None");
}

Result<std::string> to_string(const Value& v, size_t limit) {
  if (v.is_string()) return v.as_string();
  std::string s;
  GS_RETURN_IF_ERROR(append_string(v, &s, limit));
  return s;
}

Status append_json(const Value& v, const JsonStyle& style, std::string* out, size_t limit, int max_depth) {
  JsonWriter w{style, out, limit, style.item_separator};
  if (w.item_sep.empty()) w.item_sep = style.indent >= 0 ? "," : ", ";
  GS_RETURN_IF_ERROR(w.write(v, 0, max_depth));
  if (out->size() > limit) return too_long(limit);
  return Status::Ok();
}

Result<Value> from_json(const boost::json::value& json, int max_depth) {
  if (max_depth <= 0) return too_deep();
  switch (json.kind()) {
    case boost::json::kind::null:
      return Value::none();
    case boost::json::kind::bool_:
      return Value::boolean(json.get_bool());
    case boost::json::kind::int64:
      return Value::integer(json.get_int64());
    case boost::json::kind::uint64: {
      const uint64_t u = json.get_uint64();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::integer(static_cast<int64_t>(u));
      return Value::number(static_cast<double>(u));
    }
    case boost::json::kind::double_: {
      const double d = json.get_double();
      if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0)
        return Value::integer(static_cast<int64_t>(d));
      return Value::number(d);
    }
    case boost::json::kind::string:
      return Value::string(std::string(json.get_string()));
    case boost::json::kind::array: {
      List items;
      items.reserve(json.get_array().size());
      for (const auto& x : json.get_array()) {
        GS_ASSIGN_OR_RETURN(Value item, from_json(x, max_depth - 1));
        items.push_back(std::move(item));
      }
      return Value::list(std::move(items));
    }
    case boost::json::kind::object: {
      Value d = Value::dict();
      for (const auto& [key, x] : json.get_object()) {
        GS_ASSIGN_OR_RETURN(Value item, from_json(x, max_depth - 1));
        d.as_dict().set(std::string(key), std::move(item));
      }
      return d;
    }
  }
  return Value();
}

}  // namespace gs::tmpl
