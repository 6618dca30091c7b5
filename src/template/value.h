// The value model of the Jinja interpreter: what a template expression
// evaluates to. Mirrors Jinja's (Python's) types: undefined, none, bool, int,
// float, string, list, dict (insertion-ordered, string keys), namespace and
// callable. Lists, dicts and namespaces are shared by reference like Python
// objects (a namespace attribute set inside a loop is seen after it); strings
// and scalars are values.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace gs::tmpl {

class Value;
class Interpreter;
struct CallArgs;

using List = std::vector<Value>;

class Dict;
struct ListData;
struct Function;

struct Undefined {};
struct None {};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kFunction };

  Value() : v_(Undefined{}) {}
  static Value none() { return Value(None{}); }
  static Value boolean(bool b) { return Value(b); }
  static Value integer(int64_t i) { return Value(i); }
  static Value number(double d) { return Value(d); }
  static Value string(std::string s) { return Value(std::move(s)); }
  static Value list(List items = {});
  static Value dict();
  static Value dict(std::shared_ptr<Dict> d) { return Value(DictRef{std::move(d)}); }
  static Value namespace_(std::shared_ptr<Dict> d) { return Value(NamespaceRef{std::move(d)}); }
  static Value function(std::string name, std::function<Result<Value>(Interpreter&, CallArgs&)> fn);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_namespace() const { return kind() == Kind::kNamespace; }
  bool is_function() const { return kind() == Kind::kFunction; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  // int, float or bool as a double (Python treats bools as numbers).
  double as_double() const;
  const std::string& as_string() const { return std::get<std::string>(v_); }
  List& as_list() const;
  const std::shared_ptr<ListData>& list_ref() const { return std::get<ListRef>(v_).p; }
  // The entries of a dict or namespace.
  Dict& as_dict() const;
  const std::shared_ptr<Dict>& dict_ref() const;
  const Function& as_function() const;

  // Python truthiness: empty strings, lists and dicts, 0, none and undefined are false.
  bool truthy() const;
  const char* type_name() const;

 private:
  struct ListRef {
    std::shared_ptr<ListData> p;
  };
  struct DictRef {
    std::shared_ptr<Dict> p;
  };
  struct NamespaceRef {
    std::shared_ptr<Dict> p;
  };
  struct FunctionRef {
    std::shared_ptr<const Function> p;
  };
  template <typename T>
  explicit Value(T v) : v_(std::move(v)) {}

  std::variant<Undefined, None, bool, int64_t, double, std::string, ListRef, DictRef, NamespaceRef,
               FunctionRef>
      v_;
};

// Insertion-ordered mapping from string keys to values (Python dicts keep
// insertion order, and tojson output of tool schemas depends on it).
class Dict {
 public:
  Dict() = default;
  Dict(const Dict&) = delete;
  Dict& operator=(const Dict&) = delete;
  ~Dict();

  const Value* find(std::string_view key) const;
  void set(std::string key, Value value);
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  // Empties the dict, handing back its values (used to free deep nesting iteratively).
  std::vector<Value> take_values();

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

struct ListData {
  ListData() = default;
  explicit ListData(List v) : items(std::move(v)) {}
  ListData(const ListData&) = delete;
  ListData& operator=(const ListData&) = delete;
  ~ListData();
  List items;
};

// A built-in function, a bound method or a macro. `call` gets the evaluated
// arguments; errors carry no position (the call site adds it).
struct Function {
  std::string name;
  std::function<Result<Value>(Interpreter&, CallArgs&)> call;
};

inline List& Value::as_list() const { return std::get<ListRef>(v_).p->items; }
inline const Function& Value::as_function() const { return *std::get<FunctionRef>(v_).p; }

// Arguments of a call: positional, then keyword (in source order).
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  Value caller;  // the body of a {% call %} block, when the callee is invoked by one

  // The argument named `name`, or the positional one at `index`; undefined when absent.
  Value get(size_t index, std::string_view name) const;
  // Errors naming the first keyword not in `allowed` or extra positional arguments.
  Status expect(std::string_view function, size_t max_positional,
                std::initializer_list<std::string_view> allowed) const;
};

// Equality as Python's ==: numbers by value (1 == 1.0 == true), strings,
// lists and dicts element-wise; namespaces and functions by identity.
// Errors past `max_depth` nesting levels instead of overflowing the stack.
Result<bool> values_equal(const Value& a, const Value& b, int max_depth = 256);

// Ordering for sort/min/max/dictsort and <, <=: numbers with numbers, strings
// with strings (optionally case-folded), lists lexicographically.
Result<int> compare_values(const Value& a, const Value& b, bool case_sensitive = true, int max_depth = 256);

// Float text as @huggingface/jinja prints it: "3.0" for integral values,
// otherwise the shortest round-trip form (JavaScript's Number#toString).
std::string format_float(double d);
// A number as a JSON literal (JavaScript's JSON.stringify of a number).
std::string json_number(double d);

}  // namespace gs::tmpl
