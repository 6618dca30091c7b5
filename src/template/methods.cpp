// Attribute and item access, slicing, and the Python methods templates call
// on strings (strip, split, startswith, replace, format, ...), dicts (items,
// keys, values, get) and lists (append, index, ...).
#include <algorithm>

#include "template/format.h"
#include "template/interpreter.h"
#include "template/text.h"

namespace gs::tmpl {

namespace {

using Method = Result<Value> (*)(Interpreter&, const Value& self, CallArgs& args);

Result<std::string> string_arg(const CallArgs& a, size_t i, std::string_view name, std::string_view method) {
  Value v = a.get(i, name);
  if (!v.is_string())
    return Error("{}() argument '{}' must be a string, not {}", method, name, v.type_name());
  return v.as_string();
}

Result<int64_t> int_arg(const CallArgs& a, size_t i, std::string_view name, int64_t fallback) {
  Value v = a.get(i, name);
  if (v.is_undefined() || v.is_none()) return fallback;
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return static_cast<int64_t>(v.as_bool());
  return Error("argument '{}' must be an integer, not {}", name, v.type_name());
}

// Code-point index of byte offset `byte` in s.
int64_t char_index(std::string_view s, size_t byte) {
  return static_cast<int64_t>(text::char_count(s.substr(0, byte)));
}

// ---- str ----

Result<Value> str_strip(const Value& self, const CallArgs& a, bool left, bool right) {
  Value chars = a.get(0, "chars");
  if (chars.is_undefined() || chars.is_none())
    return Value::string(std::string(text::trim(self.as_string(), left, right)));
  if (!chars.is_string()) return Error("strip() argument must be a string, not {}", chars.type_name());
  return Value::string(std::string(text::trim_chars(self.as_string(), chars.as_string(), left, right)));
}

Result<Value> str_split(Interpreter& in, const Value& self, CallArgs& a) {
  const std::string& s = self.as_string();
  Value sep = a.get(0, "sep");
  GS_ASSIGN_OR_RETURN(int64_t maxsplit, int_arg(a, 1, "maxsplit", -1));
  List parts;
  if (sep.is_undefined() || sep.is_none()) {
    // Runs of white space separate; no empty strings at either end.
    std::string_view rest = text::trim(s, true, false);
    while (!rest.empty()) {
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
        parts.push_back(Value::string(std::string(rest)));
        break;
      }
      size_t end = 0, len = 0;
      while (end < rest.size() && !text::is_space(text::decode(rest, end, &len))) end += len;
      parts.push_back(Value::string(std::string(rest.substr(0, end))));
      rest = text::trim(rest.substr(end), true, false);
    }
  } else {
    if (!sep.is_string()) return Error("split() separator must be a string, not {}", sep.type_name());
    const std::string& d = sep.as_string();
    if (d.empty()) return Error("split() separator is empty");
    size_t start = 0;
    while (true) {
      size_t at = s.find(d, start);
      if (at == std::string::npos || (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit)) break;
      parts.push_back(Value::string(s.substr(start, at - start)));
      start = at + d.size();
    }
    parts.push_back(Value::string(s.substr(start)));
  }
  GS_RETURN_IF_ERROR(in.charge(parts.size()));
  return Value::list(std::move(parts));
}

Result<Value> str_affix(const Value& self, CallArgs& a, bool prefix) {
  const std::string& s = self.as_string();
  Value arg = a.get(0, prefix ? "prefix" : "suffix");
  std::vector<Value> options = arg.is_list() ? arg.as_list() : std::vector<Value>{arg};
  for (const Value& o : options) {
    if (!o.is_string())
      return Error("{}() needs strings, not {}", prefix ? "startswith" : "endswith", o.type_name());
    const std::string& x = o.as_string();
    if (x.size() <= s.size() && s.compare(prefix ? 0 : s.size() - x.size(), x.size(), x) == 0)
      return Value::boolean(true);
  }
  return Value::boolean(false);
}

Result<Value> str_replace(Interpreter& in, const Value& self, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(std::string from, string_arg(a, 0, "old", "replace"));
  GS_ASSIGN_OR_RETURN(std::string to, string_arg(a, 1, "new", "replace"));
  GS_ASSIGN_OR_RETURN(int64_t count, int_arg(a, 2, "count", -1));
  const std::string& s = self.as_string();
  std::string out;
  if (from.empty()) {
    // Python inserts the replacement before every character and at the end.
    std::vector<size_t> offsets = text::char_offsets(s);
    for (size_t i = 0; i < offsets.size(); ++i) {
      if (count < 0 || static_cast<int64_t>(i) < count) out += to;
      if (i + 1 < offsets.size()) out.append(s, offsets[i], offsets[i + 1] - offsets[i]);
      GS_RETURN_IF_ERROR(in.check_size(out.size()));
    }
  } else {
    size_t start = 0;
    for (int64_t n = 0; count < 0 || n < count; ++n) {
      size_t at = s.find(from, start);
      if (at == std::string::npos) break;
      out.append(s, start, at - start);
      out += to;
      start = at + from.size();
      GS_RETURN_IF_ERROR(in.check_size(out.size()));
    }
    out.append(s, start, std::string::npos);
  }
  GS_RETURN_IF_ERROR(in.check_size(out.size()));
  GS_RETURN_IF_ERROR(in.charge(out.size() / 64));
  return Value::string(std::move(out));
}

Result<Value> str_find(const Value& self, CallArgs& a, bool reverse) {
  GS_ASSIGN_OR_RETURN(std::string sub, string_arg(a, 0, "sub", reverse ? "rfind" : "find"));
  const std::string& s = self.as_string();
  const size_t at = reverse ? s.rfind(sub) : s.find(sub);
  return Value::integer(at == std::string::npos ? -1 : char_index(s, at));
}

Result<Value> str_count(const Value& self, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(std::string sub, string_arg(a, 0, "x", "count"));
  const std::string& s = self.as_string();
  if (sub.empty()) return Value::integer(static_cast<int64_t>(text::char_count(s)) + 1);
  int64_t n = 0;
  for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
  return Value::integer(n);
}

Result<Value> str_join(Interpreter& in, const Value& self, CallArgs& a) {
  Value items = a.get(0, "iterable");
  if (!items.is_list()) return Error("join() needs a list, not {}", items.type_name());
  std::string out;
  for (size_t i = 0; i < items.as_list().size(); ++i) {
    if (i > 0) out += self.as_string();
    GS_RETURN_IF_ERROR(append_string(items.as_list()[i], &out, in.options().max_output_bytes));
  }
  GS_RETURN_IF_ERROR(in.charge(items.as_list().size()));
  return Value::string(std::move(out));
}

// str.format with {} {0} {name} fields and {{ }} escapes (no format specs).
Result<Value> str_format(Interpreter& in, const Value& self, CallArgs& a) {
  const std::string& f = self.as_string();
  std::string out;
  size_t next_auto = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if ((c == '{' || c == '}') && i + 1 < f.size() && f[i + 1] == c) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '}') return Status::Error("format(): single '}' in the format string");
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    const size_t close = f.find('}', i);
    if (close == std::string::npos) return Status::Error("format(): single '{' in the format string");
    const std::string field = f.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!") != std::string::npos)
      return Error("format(): format specs are not supported");
    Value v;
    if (field.empty()) {
      v = a.get(next_auto++, "");
    } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      v = field.size() < 6 ? a.get(std::stoul(field), "") : Value();
    } else {
      v = a.get(SIZE_MAX, field);
    }
    if (v.is_undefined()) return Error("format(): no argument for field '{{{}}}'", field);
    GS_RETURN_IF_ERROR(append_string(v, &out, in.options().max_output_bytes));
    i = close;
  }
  return Value::string(std::move(out));
}

template <bool (*Pred)(char)>
Result<Value> str_is(const Value& self) {
  const std::string& s = self.as_string();
  return Value::boolean(!s.empty() && std::all_of(s.begin(), s.end(), Pred));
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
bool is_space_char(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

Method string_method(std::string_view name) {
  static const std::pair<std::string_view, Method> kMethods[] = {
      {"upper",
       [](Interpreter&, const Value& s, CallArgs&) -> Result<Value> {
         return Value::string(text::ascii_upper(s.as_string()));
       }},
      {"lower",
       [](Interpreter&, const Value& s, CallArgs&) -> Result<Value> {
         return Value::string(text::ascii_lower(s.as_string()));
       }},
      {"title",
       [](Interpreter&, const Value& s, CallArgs&) -> Result<Value> {
         return Value::string(text::title(s.as_string()));
       }},
      {"capitalize",
       [](Interpreter&, const Value& s, CallArgs&) -> Result<Value> {
         return Value::string(text::capitalize(s.as_string()));
       }},
      {"strip", [](Interpreter&, const Value& s, CallArgs& a) { return str_strip(s, a, true, true); }},
      {"lstrip", [](Interpreter&, const Value& s, CallArgs& a) { return str_strip(s, a, true, false); }},
      {"rstrip", [](Interpreter&, const Value& s, CallArgs& a) { return str_strip(s, a, false, true); }},
      {"split", str_split},
      {"startswith", [](Interpreter&, const Value& s, CallArgs& a) { return str_affix(s, a, true); }},
      {"endswith", [](Interpreter&, const Value& s, CallArgs& a) { return str_affix(s, a, false); }},
      {"replace", str_replace},
      {"find", [](Interpreter&, const Value& s, CallArgs& a) { return str_find(s, a, false); }},
      {"rfind", [](Interpreter&, const Value& s, CallArgs& a) { return str_find(s, a, true); }},
      {"count", [](Interpreter&, const Value& s, CallArgs& a) { return str_count(s, a); }},
      {"join", str_join},
      {"format", str_format},
      {"isdigit", [](Interpreter&, const Value& s, CallArgs&) { return str_is<is_digit>(s); }},
      {"isalpha", [](Interpreter&, const Value& s, CallArgs&) { return str_is<is_alpha>(s); }},
      {"isalnum", [](Interpreter&, const Value& s, CallArgs&) { return str_is<is_alnum>(s); }},
      {"isspace", [](Interpreter&, const Value& s, CallArgs&) { return str_is<is_space_char>(s); }},
      {"removeprefix",
       [](Interpreter&, const Value& s, CallArgs& a) -> Result<Value> {
         GS_ASSIGN_OR_RETURN(std::string p, string_arg(a, 0, "prefix", "removeprefix"));
         const std::string& x = s.as_string();
         return Value::string(x.rfind(p, 0) == 0 ? x.substr(p.size()) : x);
       }},
      {"removesuffix",
       [](Interpreter&, const Value& s, CallArgs& a) -> Result<Value> {
         GS_ASSIGN_OR_RETURN(std::string p, string_arg(a, 0, "suffix", "removesuffix"));
         const std::string& x = s.as_string();
         const bool ends = x.size() >= p.size() && x.compare(x.size() - p.size(), p.size(), p) == 0;
         return Value::string(ends && !p.empty() ? x.substr(0, x.size() - p.size()) : x);
       }},
  };
  for (const auto& [n, m] : kMethods) {
    if (n == name) return m;
  }
  return nullptr;
}

// ---- dict ----

Value pair(std::string key, Value v) { return Value::list({Value::string(std::move(key)), std::move(v)}); }

Method dict_method(std::string_view name) {
  static const std::pair<std::string_view, Method> kMethods[] = {
      {"items",
       [](Interpreter& in, const Value& d, CallArgs&) -> Result<Value> {
         List out;
         for (const auto& [k, v] : d.as_dict().entries()) out.push_back(pair(k, v));
         GS_RETURN_IF_ERROR(in.charge(out.size()));
         return Value::list(std::move(out));
       }},
      {"keys",
       [](Interpreter& in, const Value& d, CallArgs&) -> Result<Value> {
         List out;
         for (const auto& e : d.as_dict().entries()) out.push_back(Value::string(e.first));
         GS_RETURN_IF_ERROR(in.charge(out.size()));
         return Value::list(std::move(out));
       }},
      {"values",
       [](Interpreter& in, const Value& d, CallArgs&) -> Result<Value> {
         List out;
         for (const auto& e : d.as_dict().entries()) out.push_back(e.second);
         GS_RETURN_IF_ERROR(in.charge(out.size()));
         return Value::list(std::move(out));
       }},
      {"get",
       [](Interpreter&, const Value& d, CallArgs& a) -> Result<Value> {
         Value key = a.get(0, "key");
         const Value* v = key.is_string() ? d.as_dict().find(key.as_string()) : nullptr;
         if (v) return *v;
         Value fallback = a.get(1, "default");
         return fallback.is_undefined() ? Value::none() : fallback;
       }},
  };
  for (const auto& [n, m] : kMethods) {
    if (n == name) return m;
  }
  return nullptr;
}

// ---- list ----

Result<size_t> list_position(const List& items, const Value& x, int max_depth) {
  for (size_t i = 0; i < items.size(); ++i) {
    GS_ASSIGN_OR_RETURN(bool eq, values_equal(items[i], x, max_depth));
    if (eq) return i;
  }
  return items.size();
}

Method list_method(std::string_view name) {
  static const std::pair<std::string_view, Method> kMethods[] = {
      {"append",
       [](Interpreter& in, const Value& l, CallArgs& a) -> Result<Value> {
         Value x = a.get(0, "object");
         GS_RETURN_IF_ERROR(in.check_no_cycle(x, l.list_ref().get()));
         l.as_list().push_back(std::move(x));
         return Value::none();
       }},
      {"extend",
       [](Interpreter& in, const Value& l, CallArgs& a) -> Result<Value> {
         Value x = a.get(0, "iterable");
         if (!x.is_list()) return Error("extend() needs a list, not {}", x.type_name());
         GS_RETURN_IF_ERROR(in.check_no_cycle(x, l.list_ref().get()));
         GS_RETURN_IF_ERROR(in.charge(x.as_list().size()));
         List copy = x.as_list();
         l.as_list().insert(l.as_list().end(), copy.begin(), copy.end());
         return Value::none();
       }},
      {"pop",
       [](Interpreter&, const Value& l, CallArgs& a) -> Result<Value> {
         List& items = l.as_list();
         GS_ASSIGN_OR_RETURN(int64_t i, int_arg(a, 0, "index", -1));
         const auto n = static_cast<int64_t>(items.size());
         if (i < 0) i += n;
         if (i < 0 || i >= n) return Error("pop index out of range");
         Value v = items[static_cast<size_t>(i)];
         items.erase(items.begin() + i);
         return v;
       }},
      {"index",
       [](Interpreter& in, const Value& l, CallArgs& a) -> Result<Value> {
         GS_ASSIGN_OR_RETURN(size_t i, list_position(l.as_list(), a.get(0, "value"), in.options().max_depth));
         if (i == l.as_list().size()) return Error("value is not in list");
         return Value::integer(static_cast<int64_t>(i));
       }},
      {"count",
       [](Interpreter& in, const Value& l, CallArgs& a) -> Result<Value> {
         int64_t n = 0;
         for (const Value& x : l.as_list()) {
           GS_ASSIGN_OR_RETURN(bool eq, values_equal(x, a.get(0, "value"), in.options().max_depth));
           n += eq;
         }
         return Value::integer(n);
       }},
  };
  for (const auto& [n, m] : kMethods) {
    if (n == name) return m;
  }
  return nullptr;
}

Value bind_method(const Value& self, std::string_view name, Method m) {
  return Value::function(std::string(name),
                         [self, m](Interpreter& in, CallArgs& a) { return m(in, self, a); });
}

Result<int64_t> slice_bound(const Value& v, const char* what) {
  if (v.is_undefined() || v.is_none()) return INT64_MIN;
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return static_cast<int64_t>(v.as_bool());
  return Error("slice {} must be an integer, not {}", what, v.type_name());
}

}  // namespace

Result<Value> get_attribute(const Value& obj, std::string_view name) {
  Method m = nullptr;
  switch (obj.kind()) {
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      // Keys first (a JSON schema's "items" is data, not dict.items).
      if (const Value* v = obj.as_dict().find(name)) return *v;
      if (obj.is_dict()) m = dict_method(name);
      break;
    case Value::Kind::kString:
      m = string_method(name);
      break;
    case Value::Kind::kList:
      m = list_method(name);
      break;
    default:
      break;
  }
  return m ? bind_method(obj, name, m) : Value();
}

Result<Value> get_item(const Value& obj, const Value& key) {
  if (key.is_string()) return get_attribute(obj, key.as_string());
  if (!(key.is_int() || key.is_bool())) return Value();
  int64_t i = key.is_int() ? key.as_int() : key.as_bool();
  if (obj.is_list()) {
    const auto n = static_cast<int64_t>(obj.as_list().size());
    if (i < 0) i += n;
    return i >= 0 && i < n ? obj.as_list()[static_cast<size_t>(i)] : Value();
  }
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    std::vector<size_t> offsets = text::char_offsets(s);
    const auto n = static_cast<int64_t>(offsets.size()) - 1;
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value();
    const size_t k = static_cast<size_t>(i);
    return Value::string(s.substr(offsets[k], offsets[k + 1] - offsets[k]));
  }
  return Value();
}

Result<Value> slice_value(Interpreter& in, const Value& obj, const Value& start_v, const Value& stop_v,
                          const Value& step_v) {
  if (!obj.is_list() && !obj.is_string()) return Error("cannot slice {}", obj.type_name());
  GS_ASSIGN_OR_RETURN(int64_t start, slice_bound(start_v, "start"));
  GS_ASSIGN_OR_RETURN(int64_t stop, slice_bound(stop_v, "stop"));
  GS_ASSIGN_OR_RETURN(int64_t step, slice_bound(step_v, "step"));
  if (step == INT64_MIN) step = 1;
  if (step == 0) return Error("slice step cannot be zero");
  std::vector<size_t> offsets;
  if (obj.is_string()) offsets = text::char_offsets(obj.as_string());
  const int64_t n =
      obj.is_list() ? static_cast<int64_t>(obj.as_list().size()) : static_cast<int64_t>(offsets.size()) - 1;
  // Python's slice.indices(): clamp each bound into range for the step's direction.
  const int64_t lower = step > 0 ? 0 : -1, upper = step > 0 ? n : n - 1;
  const auto clamp = [&](int64_t v, int64_t fallback) {
    if (v == INT64_MIN) return fallback;
    if (v < 0) return std::max(v + n, lower);
    return std::min(v, upper);
  };
  start = clamp(start, step > 0 ? lower : upper);
  stop = clamp(stop, step > 0 ? upper : lower);
  List items;
  std::string chars;
  for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
    const size_t k = static_cast<size_t>(i);
    if (obj.is_list()) {
      items.push_back(obj.as_list()[k]);
    } else {
      chars.append(obj.as_string(), offsets[k], offsets[k + 1] - offsets[k]);
    }
    if (__builtin_add_overflow(i, step, &i)) break;
  }
  GS_RETURN_IF_ERROR(in.charge(items.size() + chars.size() / 16));
  return obj.is_list() ? Value::list(std::move(items)) : Value::string(std::move(chars));
}

}  // namespace gs::tmpl
