#include "template/value.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace gs::tmpl {

namespace {

// Freeing a value nested thousands of levels deep must not recurse once per
// level (a template can build such a value in a loop). Containers that only
// this value owns are emptied onto a work list and freed one at a time.
void take_owned_children(Value& v, std::vector<Value>& out) {
  if (v.is_list()) {
    if (v.list_ref().use_count() != 1) return;
    List& items = v.as_list();
    for (Value& x : items) out.push_back(std::move(x));
    items.clear();
  } else if (v.is_dict() || v.is_namespace()) {
    if (v.dict_ref().use_count() != 1) return;
    for (Value& x : v.as_dict().take_values()) out.push_back(std::move(x));
  }
}

void destroy_flat(std::vector<Value> stack) {
  while (!stack.empty()) {
    Value v = std::move(stack.back());
    stack.pop_back();
    take_owned_children(v, stack);
  }
}

std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Shortest round-trip digits of a finite non-zero |d| and its decimal
// exponent n, so that |d| = 0.DIGITS * 10^n.
void shortest_digits(double d, std::string* digits, int* n) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  size_t e = s.find('e');
  digits->clear();
  for (char c : s.substr(0, e)) {
    if (c != '.') digits->push_back(c);
  }
  while (digits->size() > 1 && digits->back() == '0') digits->pop_back();
  int exp10 = 0;
  std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exp10);
  *n = exp10 + 1;
}

// JavaScript's Number#toString for finite values (ECMA-262 Number::toString).
std::string js_number_string(double d) {
  if (d == 0) return "0";
  std::string digits;
  int n = 0;
  shortest_digits(d, &digits, &n);
  const int k = static_cast<int>(digits.size());
  std::string out = d < 0 ? "-" : "";
  if (k <= n && n <= 21) {
    out += digits + std::string(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-n), '0');
    out.append(digits);
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out += n - 1 >= 0 ? "e+" : "e-";
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

}  // namespace

// ---- containers -----------------------------------------------------------

Dict::~Dict() {
  if (!entries_.empty()) destroy_flat(take_values());
}

ListData::~ListData() {
  if (!items.empty()) destroy_flat(std::move(items));
}

const Value* Dict::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

void Dict::set(std::string key, Value value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
}

std::vector<Value> Dict::take_values() {
  std::vector<Value> out;
  out.reserve(entries_.size());
  for (auto& e : entries_) out.push_back(std::move(e.second));
  entries_.clear();
  index_.clear();
  return out;
}

// ---- Value ----------------------------------------------------------------

Value Value::list(List items) { return Value(ListRef{std::make_shared<ListData>(std::move(items))}); }

Value Value::dict() { return Value(DictRef{std::make_shared<Dict>()}); }

Value Value::function(std::string name, std::function<Result<Value>(Interpreter&, CallArgs&)> fn) {
  auto f = std::make_shared<Function>();
  f->name = std::move(name);
  f->call = std::move(fn);
  return Value(FunctionRef{std::move(f)});
}

double Value::as_double() const {
  if (is_int()) return static_cast<double>(as_int());
  if (is_bool()) return as_bool() ? 1.0 : 0.0;
  return as_float();
}

Dict& Value::as_dict() const { return *dict_ref(); }

const std::shared_ptr<Dict>& Value::dict_ref() const {
  if (is_namespace()) return std::get<NamespaceRef>(v_).p;
  return std::get<DictRef>(v_).p;
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_float() != 0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
      return !as_list().empty();
    case Kind::kDict:
      return !as_dict().empty();
    case Kind::kNamespace:
    case Kind::kFunction:
      return true;
  }
  return false;
}

const char* Value::type_name() const {
  static constexpr const char* kNames[] = {"undefined", "none", "bool", "int",       "float",
                                           "string",    "list", "dict", "namespace", "function"};
  return kNames[static_cast<int>(kind())];
}

Value CallArgs::get(size_t index, std::string_view name) const {
  for (const auto& [k, v] : keyword) {
    if (k == name) return v;
  }
  return index < positional.size() ? positional[index] : Value();
}

Status CallArgs::expect(std::string_view function, size_t max_positional,
                        std::initializer_list<std::string_view> allowed) const {
  if (positional.size() > max_positional) {
    return Error("{}() takes at most {} positional argument(s), got {}", function, max_positional,
                 positional.size());
  }
  for (const auto& kw : keyword) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == kw.first;
    if (!known) return Error("{}() got an unexpected keyword argument '{}'", function, kw.first);
  }
  return Status::Ok();
}

// ---- comparison -----------------------------------------------------------

Result<bool> values_equal(const Value& a, const Value& b, int max_depth) {
  if (max_depth <= 0) return Error("value nested too deeply to compare");
  const bool a_num = a.is_number() || a.is_bool();
  const bool b_num = b.is_number() || b.is_bool();
  if (a_num || b_num) {
    if (!(a_num && b_num)) return false;
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return (a.is_int() ? a.as_int() : a.as_bool()) == (b.is_int() ? b.as_int() : b.as_bool());
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      const List& x = a.as_list();
      const List& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        GS_ASSIGN_OR_RETURN(bool eq, values_equal(x[i], y[i], max_depth - 1));
        if (!eq) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.entries()) {
        const Value* other = y.find(key);
        if (!other) return false;
        GS_ASSIGN_OR_RETURN(bool eq, values_equal(value, *other, max_depth - 1));
        if (!eq) return false;
      }
      return true;
    }
    case Value::Kind::kNamespace:
      return a.dict_ref() == b.dict_ref();
    case Value::Kind::kFunction:
      return &a.as_function() == &b.as_function();
    default:
      return false;
  }
}

Result<int> compare_values(const Value& a, const Value& b, bool case_sensitive, int max_depth) {
  if (max_depth <= 0) return Error("value nested too deeply to compare");
  const bool a_num = a.is_number() || a.is_bool();
  const bool b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    const double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = case_sensitive ? a.as_string().compare(b.as_string())
                           : ascii_lower(a.as_string()).compare(ascii_lower(b.as_string()));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      GS_ASSIGN_OR_RETURN(int c, compare_values(x[i], y[i], case_sensitive, max_depth - 1));
      if (c != 0) return c;
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  if ((a.is_none() && b.is_none()) || (a.is_undefined() && b.is_undefined())) return 0;
  return Error("cannot compare {} with {}", a.type_name(), b.type_name());
}

// ---- number text ----------------------------------------------------------

std::string format_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  if (d == std::trunc(d) && std::fabs(d) < 1e21) {
    // Number#toFixed(1): the exact integer, then ".0".
    char buf[400];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 0);
    return std::string(buf, r.ptr) + ".0";
  }
  return js_number_string(d);
}

std::string json_number(double d) {
  if (!std::isfinite(d)) return "null";
  return js_number_string(d);
}

}  // namespace gs::tmpl
