// Jinja's built-in filters, as chat templates use them.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "template/format.h"
#include "template/interpreter.h"
#include "template/text.h"

namespace gs::tmpl {

namespace {

// ---- argument helpers ----

bool absent(const Value& v) { return v.is_undefined() || v.is_none(); }

bool flag(const CallArgs& a, size_t i, std::string_view name, bool fallback = false) {
  Value v = a.get(i, name);
  return v.is_undefined() ? fallback : v.truthy();
}

Result<std::string> text_of(Interpreter& in, const Value& v) {
  return to_string(v, in.options().max_output_bytes);
}

// "a.b.0": keys of dicts and namespaces, indices of lists (Jinja's attribute= paths).
Result<Value> lookup_path(const Value& item, const Value& path) {
  if (path.is_int()) return get_item(item, path);
  if (!path.is_string()) return Error("attribute must be a string, not {}", path.type_name());
  Value v = item;
  std::string_view rest = path.as_string();
  while (true) {
    const size_t dot = rest.find('.');
    std::string_view part = rest.substr(0, dot);
    const bool digits =
        !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits && v.is_list() && part.size() < 10) {
      GS_ASSIGN_OR_RETURN(v, get_item(v, Value::integer(std::atoll(std::string(part).c_str()))));
    } else {
      GS_ASSIGN_OR_RETURN(v, get_attribute(v, part));
    }
    if (dot == std::string_view::npos) return v;
    rest = rest.substr(dot + 1);
  }
}

Result<List> items_of(Interpreter& in, const Value& v, std::string_view filter) {
  if (v.is_list()) return v.as_list();
  if (v.is_undefined()) return List{};
  if (v.is_string()) {
    List chars;
    std::vector<size_t> offsets = text::char_offsets(v.as_string());
    for (size_t i = 0; i + 1 < offsets.size(); ++i) {
      chars.push_back(Value::string(v.as_string().substr(offsets[i], offsets[i + 1] - offsets[i])));
    }
    GS_RETURN_IF_ERROR(in.charge(chars.size()));
    return chars;
  }
  if (v.is_dict()) {
    List keys;
    for (const auto& e : v.as_dict().entries()) keys.push_back(Value::string(e.first));
    return keys;
  }
  return Error("{} needs a sequence, not {}", filter, v.type_name());
}

// Sorts by `key` (the item itself or an attribute path), stably.
Status sort_items(Interpreter& in, List* items, const Value& attribute, bool case_sensitive, bool reverse) {
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& x : *items) {
    Value key = x;
    if (!absent(attribute)) {
      GS_ASSIGN_OR_RETURN(key, lookup_path(x, attribute));
    }
    keyed.emplace_back(std::move(key), x);
  }
  GS_RETURN_IF_ERROR(in.charge(keyed.size() * 4));
  Status failed;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (!failed.ok()) return false;
    Result<int> c = compare_values(a.first, b.first, case_sensitive, in.options().max_depth);
    if (!c.ok()) {
      failed = c.status();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  GS_RETURN_IF_ERROR(failed);
  for (size_t i = 0; i < keyed.size(); ++i) (*items)[i] = std::move(keyed[i].second);
  return Status::Ok();
}

// Arguments after the first `skip` positional ones, for a test or filter named by a string.
CallArgs rest_args(const CallArgs& a, size_t skip) {
  CallArgs out;
  for (size_t i = skip; i < a.positional.size(); ++i) out.positional.push_back(a.positional[i]);
  out.keyword = a.keyword;
  return out;
}

// ---- strings ----

Result<Value> f_trim(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  Value chars = a.get(0, "chars");
  if (chars.is_string())
    return Value::string(std::string(text::trim_chars(s, chars.as_string(), true, true)));
  return Value::string(std::string(text::trim(s, true, true)));
}

template <std::string (*Fn)(std::string_view)>
Result<Value> f_case(Interpreter& in, const Value& v, CallArgs&) {
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  return Value::string(Fn(s));
}

Result<Value> f_replace(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  GS_ASSIGN_OR_RETURN(Value method, get_attribute(Value::string(std::move(s)), "replace"));
  return in.call(method, a);
}

Result<Value> f_string(Interpreter& in, const Value& v, CallArgs&) {
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  return Value::string(std::move(s));
}

Result<Value> f_escape(Interpreter& in, const Value& v, CallArgs&) {
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  GS_RETURN_IF_ERROR(in.check_size(out.size()));
  return Value::string(std::move(out));
}

Result<Value> f_indent(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  Value width = a.get(0, "width");
  std::string pad = width.is_string() ? width.as_string() : std::string(4, ' ');
  if (width.is_int()) pad.assign(static_cast<size_t>(std::clamp<int64_t>(width.as_int(), 0, 1024)), ' ');
  const bool first = flag(a, 1, "first"), blank = flag(a, 2, "blank");
  std::string out;
  size_t start = 0;
  for (bool is_first = true;; is_first = false) {
    const size_t nl = s.find('\n', start);
    std::string_view line(s.data() + start, (nl == std::string::npos ? s.size() : nl) - start);
    if ((!is_first || first) && (!line.empty() || blank)) out += pad;
    out += line;
    GS_RETURN_IF_ERROR(in.check_size(out.size()));
    if (nl == std::string::npos) break;
    out.push_back('\n');
    start = nl + 1;
  }
  return Value::string(std::move(out));
}

Result<Value> f_wordcount(Interpreter& in, const Value& v, CallArgs&) {
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  int64_t words = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    const bool word = std::isalnum(c) || c == '_' || c >= 0x80;
    words += word && !in_word;
    in_word = word;
  }
  return Value::integer(words);
}

// "%s and %d" | format(a, b): printf-style, as Python's % operator.
Result<Value> f_format(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(std::string f, text_of(in, v));
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    if (++i >= f.size()) return Error("format: incomplete format");
    if (f[i] == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= a.positional.size()) return Error("format: not enough arguments");
    const Value& arg = a.positional[next++];
    if (f[i] == 's') {
      GS_RETURN_IF_ERROR(append_string(arg, &out, in.options().max_output_bytes));
    } else if ((f[i] == 'd' || f[i] == 'i') && (arg.is_number() || arg.is_bool())) {
      out += std::to_string(arg.is_int() ? arg.as_int() : static_cast<int64_t>(std::trunc(arg.as_double())));
    } else {
      return Error("format: unsupported conversion %{}", f[i]);
    }
  }
  return Value::string(std::move(out));
}

// ---- conversions ----

Result<Value> f_tojson(Interpreter& in, const Value& v, CallArgs& a) {
  GS_RETURN_IF_ERROR(a.expect("tojson", 1, {"indent", "ensure_ascii", "sort_keys", "separators"}));
  JsonStyle style;
  Value indent = a.get(0, "indent");
  if (indent.is_int()) style.indent = static_cast<int>(std::clamp<int64_t>(indent.as_int(), 0, 64));
  if (indent.is_int() && indent.as_int() <= 0) style.indent = -1;  // JavaScript treats 0 as no indent
  style.ensure_ascii = flag(a, SIZE_MAX, "ensure_ascii");
  style.sort_keys = flag(a, SIZE_MAX, "sort_keys");
  Value seps = a.get(SIZE_MAX, "separators");
  if (seps.is_list()) {
    if (seps.as_list().size() != 2 || !seps.as_list()[0].is_string() || !seps.as_list()[1].is_string()) {
      return Error("tojson separators must be two strings");
    }
    style.item_separator = seps.as_list()[0].as_string();
    style.key_separator = seps.as_list()[1].as_string();
  }
  std::string out;
  GS_RETURN_IF_ERROR(append_json(v, style, &out, in.options().max_output_bytes, in.options().max_depth));
  GS_RETURN_IF_ERROR(in.charge(out.size() / 64));
  return Value::string(std::move(out));
}

Result<Value> f_int(Interpreter& in, const Value& v, CallArgs& a) {
  Value fallback = a.get(0, "default");
  if (fallback.is_undefined()) fallback = Value::integer(0);
  if (v.is_int()) return v;
  if (v.is_bool()) return Value::integer(v.as_bool());
  if (v.is_float()) {
    if (!std::isfinite(v.as_float()) || std::fabs(v.as_float()) >= 9.2e18) return fallback;
    return Value::integer(static_cast<int64_t>(std::trunc(v.as_float())));
  }
  if (!v.is_string()) return fallback;
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  std::string t(text::trim(s, true, true));
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(t.c_str(), &end, 10);
  if (!t.empty() && *end == '\0' && errno == 0) return Value::integer(i);
  const double d = std::strtod(t.c_str(), &end);
  if (!t.empty() && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) {
    return Value::integer(static_cast<int64_t>(std::trunc(d)));
  }
  return fallback;
}

Result<Value> f_float(Interpreter& in, const Value& v, CallArgs& a) {
  Value fallback = a.get(0, "default");
  if (fallback.is_undefined()) fallback = Value::number(0.0);
  if (v.is_number() || v.is_bool()) return Value::number(v.as_double());
  if (!v.is_string()) return fallback;
  GS_ASSIGN_OR_RETURN(std::string s, text_of(in, v));
  std::string t(text::trim(s, true, true));
  char* end = nullptr;
  const double d = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0') return fallback;
  return Value::number(d);
}

Result<Value> f_abs(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_int())
    return v.as_int() == INT64_MIN ? Value::number(9223372036854775808.0)
                                   : Value::integer(std::llabs(v.as_int()));
  if (v.is_bool()) return Value::integer(v.as_bool());
  if (v.is_float()) return Value::number(std::fabs(v.as_float()));
  return Error("abs needs a number, not {}", v.type_name());
}

Result<Value> f_round(Interpreter&, const Value& v, CallArgs& a) {
  if (!v.is_number() && !v.is_bool()) return Error("round needs a number, not {}", v.type_name());
  Value precision = a.get(0, "precision");
  const int64_t digits = precision.is_int() ? std::clamp<int64_t>(precision.as_int(), -300, 300) : 0;
  Value method = a.get(1, "method");
  const std::string how = method.is_string() ? method.as_string() : "common";
  const double scale = std::pow(10.0, static_cast<double>(digits));
  const double x = v.as_double() * scale;
  double r;
  if (how == "common") {
    r = std::nearbyint(x);  // Python rounds halves to even
  } else if (how == "ceil") {
    r = std::ceil(x);
  } else if (how == "floor") {
    r = std::floor(x);
  } else {
    return Error("round method must be common, ceil or floor");
  }
  return Value::number(r / scale);
}

Result<Value> f_default(Interpreter&, const Value& v, CallArgs& a) {
  Value fallback = a.get(0, "default_value");
  if (fallback.is_undefined()) fallback = Value::string("");
  if (v.is_undefined() || (flag(a, 1, "boolean") && !v.truthy())) return fallback;
  return v;
}

Result<Value> f_list(Interpreter& in, const Value& v, CallArgs&) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "list"));
  return Value::list(std::move(items));
}

Result<Value> f_bool(Interpreter&, const Value& v, CallArgs&) { return Value::boolean(v.truthy()); }

// ---- sequences ----

Result<Value> f_length(Interpreter&, const Value& v, CallArgs&) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return Value::integer(0);
    case Value::Kind::kString:
      return Value::integer(static_cast<int64_t>(text::char_count(v.as_string())));
    case Value::Kind::kList:
      return Value::integer(static_cast<int64_t>(v.as_list().size()));
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      return Value::integer(static_cast<int64_t>(v.as_dict().size()));
    default:
      return Error("{} has no length", v.type_name());
  }
}

Result<Value> f_first_last(Interpreter& in, const Value& v, bool first) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, first ? "first" : "last"));
  if (items.empty()) return Value();
  return first ? items.front() : items.back();
}

Result<Value> f_join(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "join"));
  Value sep = a.get(0, "d");
  Value attribute = a.get(1, "attribute");
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0 && sep.is_string()) out += sep.as_string();
    Value x = items[i];
    if (!absent(attribute)) {
      GS_ASSIGN_OR_RETURN(x, lookup_path(x, attribute));
    }
    GS_RETURN_IF_ERROR(append_string(x, &out, in.options().max_output_bytes, in.options().max_depth));
  }
  GS_RETURN_IF_ERROR(in.charge(items.size() + out.size() / 64));
  return Value::string(std::move(out));
}

Result<Value> f_map(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "map"));
  Value attribute = a.get(SIZE_MAX, "attribute");
  List out;
  if (!attribute.is_undefined()) {
    Value fallback = a.get(SIZE_MAX, "default");
    for (const Value& x : items) {
      GS_ASSIGN_OR_RETURN(Value y, lookup_path(x, attribute));
      out.push_back(y.is_undefined() ? fallback : y);
    }
  } else {
    Value name = a.get(0, "");
    if (!name.is_string()) return Error("map needs a filter name or attribute=");
    CallArgs rest = rest_args(a, 1);
    for (const Value& x : items) {
      GS_ASSIGN_OR_RETURN(Value y, in.apply_filter(name.as_string(), x, rest));
      out.push_back(std::move(y));
    }
  }
  GS_RETURN_IF_ERROR(in.charge(out.size()));
  return Value::list(std::move(out));
}

// select/reject (test on the item) and selectattr/rejectattr (test on an attribute).
Result<Value> select_items(Interpreter& in, const Value& v, CallArgs& a, bool keep, bool by_attribute) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "select"));
  const size_t test_at = by_attribute ? 1 : 0;
  Value attribute = by_attribute ? a.get(0, "attribute") : Value();
  Value test = a.get(test_at, "test");
  if (!absent(test) && !test.is_string()) return Error("the test must be named by a string");
  CallArgs test_args = rest_args(a, test_at + 1);
  List out;
  for (const Value& x : items) {
    Value subject = x;
    if (by_attribute) {
      GS_ASSIGN_OR_RETURN(subject, lookup_path(x, attribute));
    }
    bool pass = subject.truthy();
    if (test.is_string()) {
      GS_ASSIGN_OR_RETURN(pass, in.apply_test(test.as_string(), subject, test_args));
    }
    if (pass == keep) out.push_back(x);
  }
  GS_RETURN_IF_ERROR(in.charge(items.size()));
  return Value::list(std::move(out));
}

Result<Value> f_sort(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "sort"));
  GS_RETURN_IF_ERROR(
      sort_items(in, &items, a.get(2, "attribute"), flag(a, 1, "case_sensitive"), flag(a, 0, "reverse")));
  return Value::list(std::move(items));
}

Result<Value> f_dictsort(Interpreter& in, const Value& v, CallArgs& a) {
  if (!v.is_dict()) return Error("dictsort needs a dict, not {}", v.type_name());
  Value by = a.get(1, "by");
  const bool by_value = by.is_string() && by.as_string() == "value";
  List pairs;
  for (const auto& [k, x] : v.as_dict().entries()) pairs.push_back(Value::list({Value::string(k), x}));
  GS_RETURN_IF_ERROR(sort_items(in, &pairs, Value::integer(by_value ? 1 : 0), flag(a, 0, "case_sensitive"),
                                flag(a, 2, "reverse")));
  return Value::list(std::move(pairs));
}

Result<Value> f_items(Interpreter& in, const Value& v, CallArgs& a) {
  if (v.is_undefined()) return Value::list();
  if (!v.is_dict()) return Error("items needs a dict, not {}", v.type_name());
  GS_ASSIGN_OR_RETURN(Value method, get_attribute(v, "items"));
  return in.call(method, a);
}

Result<Value> f_unique(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "unique"));
  const bool case_sensitive = flag(a, 0, "case_sensitive");
  Value attribute = a.get(1, "attribute");
  List out, keys;
  for (const Value& x : items) {
    Value key = x;
    if (!absent(attribute)) {
      GS_ASSIGN_OR_RETURN(key, lookup_path(x, attribute));
    }
    if (!case_sensitive && key.is_string()) key = Value::string(text::ascii_lower(key.as_string()));
    bool seen = false;
    for (const Value& k : keys) {
      GS_ASSIGN_OR_RETURN(bool eq, values_equal(k, key, in.options().max_depth));
      if ((seen = eq)) break;
    }
    GS_RETURN_IF_ERROR(in.charge(keys.size() + 1));
    if (seen) continue;
    keys.push_back(std::move(key));
    out.push_back(x);
  }
  return Value::list(std::move(out));
}

Result<Value> f_reverse(Interpreter& in, const Value& v, CallArgs&) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "reverse"));
  std::reverse(items.begin(), items.end());
  if (!v.is_string()) return Value::list(std::move(items));
  std::string out;
  for (const Value& c : items) out += c.as_string();
  return Value::string(std::move(out));
}

Result<Value> f_min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, want_max ? "max" : "min"));
  if (items.empty()) return Value();
  GS_RETURN_IF_ERROR(sort_items(in, &items, a.get(1, "attribute"), flag(a, 0, "case_sensitive"), false));
  return want_max ? items.back() : items.front();
}

Result<Value> f_sum(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "sum"));
  Value attribute = a.get(0, "attribute");
  Value total = a.get(1, "start");
  if (total.is_undefined()) total = Value::integer(0);
  for (const Value& x : items) {
    Value y = x;
    if (!absent(attribute)) {
      GS_ASSIGN_OR_RETURN(y, lookup_path(x, attribute));
    }
    GS_ASSIGN_OR_RETURN(total, binary_operator(in, Op::kAdd, total, y));
  }
  return total;
}

Result<Value> f_batch(Interpreter& in, const Value& v, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(List items, items_of(in, v, "batch"));
  Value size = a.get(0, "linecount");
  if (!size.is_int() || size.as_int() <= 0) return Error("batch needs a positive line count");
  const auto n = static_cast<size_t>(size.as_int());
  Value fill = a.get(1, "fill_with");
  List out;
  for (size_t i = 0; i < items.size(); i += n) {
    List row(items.begin() + static_cast<std::ptrdiff_t>(i),
             items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + n)));
    while (!absent(fill) && row.size() < n) row.push_back(fill);
    out.push_back(Value::list(std::move(row)));
  }
  GS_RETURN_IF_ERROR(in.charge(items.size()));
  return Value::list(std::move(out));
}

Result<Value> f_attr(Interpreter&, const Value& v, CallArgs& a) {
  Value name = a.get(0, "name");
  if (!name.is_string()) return Error("attr needs an attribute name");
  return get_attribute(v, name.as_string());
}

struct NamedFilter {
  std::string_view name;
  FilterFn fn;
};

constexpr NamedFilter kFilters[] = {
    {"abs", f_abs},
    {"attr", f_attr},
    {"batch", f_batch},
    {"bool", f_bool},
    {"capitalize", f_case<text::capitalize>},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", f_dictsort},
    {"e", f_escape},
    {"escape", f_escape},
    {"first", [](Interpreter& in, const Value& v, CallArgs&) { return f_first_last(in, v, true); }},
    {"float", f_float},
    {"format", f_format},
    {"indent", f_indent},
    {"int", f_int},
    {"items", f_items},
    {"join", f_join},
    {"last", [](Interpreter& in, const Value& v, CallArgs&) { return f_first_last(in, v, false); }},
    {"length", f_length},
    {"list", f_list},
    {"lower", f_case<text::ascii_lower>},
    {"map", f_map},
    {"max", [](Interpreter& in, const Value& v, CallArgs& a) { return f_min_max(in, v, a, true); }},
    {"min", [](Interpreter& in, const Value& v, CallArgs& a) { return f_min_max(in, v, a, false); }},
    {"reject",
     [](Interpreter& in, const Value& v, CallArgs& a) { return select_items(in, v, a, false, false); }},
    {"rejectattr",
     [](Interpreter& in, const Value& v, CallArgs& a) { return select_items(in, v, a, false, true); }},
    {"replace", f_replace},
    {"reverse", f_reverse},
    {"round", f_round},
    {"safe", [](Interpreter&, const Value& v, CallArgs&) -> Result<Value> { return v; }},
    {"select",
     [](Interpreter& in, const Value& v, CallArgs& a) { return select_items(in, v, a, true, false); }},
    {"selectattr",
     [](Interpreter& in, const Value& v, CallArgs& a) { return select_items(in, v, a, true, true); }},
    {"sort", f_sort},
    {"string", f_string},
    {"sum", f_sum},
    {"title", f_case<text::title>},
    {"tojson", f_tojson},
    {"trim", f_trim},
    {"unique", f_unique},
    {"upper", f_case<text::ascii_upper>},
    {"wordcount", f_wordcount},
};

}  // namespace

FilterFn find_filter(std::string_view name) {
  for (const NamedFilter& f : kFilters) {
    if (f.name == name) return f.fn;
  }
  return nullptr;
}

}  // namespace gs::tmpl
