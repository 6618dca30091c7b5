// Evaluates a parsed template. Scoping follows Jinja: a for loop opens a
// scope (its `set`s stay inside, namespaces carry values out), macros run in
// a scope of their own whose parent is the scope they were defined in.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "template/ast.h"
#include "template/template.h"
#include "template/value.h"

namespace gs::tmpl {

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent = nullptr) : parent_(std::move(parent)) {}
  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value value) { vars_[name] = std::move(value); }

 private:
  std::shared_ptr<Scope> parent_;
  std::unordered_map<std::string, Value> vars_;
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
 public:
  explicit Interpreter(const RenderOptions& options) : options_(options) {}

  Status render(const Program& program, ScopePtr globals, std::string* out);

  // ---- services for filters, tests, methods and built-in functions ----
  Result<Value> call(const Value& fn, CallArgs& args);
  Result<Value> apply_filter(std::string_view name, const Value& operand, CallArgs& args);
  Result<bool> apply_test(std::string_view name, const Value& operand, CallArgs& args);
  // Spends `units` of the work budget; errors once it is exhausted.
  Status charge(uint64_t units);
  // Errors when a string of `bytes` would pass the output cap.
  Status check_size(size_t bytes) const;
  // Errors when storing `value` inside `container` would make a container hold itself.
  Status check_no_cycle(const Value& value, const void* container);
  const RenderOptions& options() const { return options_; }
  int depth() const { return depth_; }

  // Runs a macro or {% call %} body with `args` bound to `params`, in a new
  // scope under `home` (the defining scope; the globals once that is gone).
  // Returns the rendered body.
  Result<Value> call_body(std::string_view name, const std::vector<Param>& params, const Body& body,
                          const std::weak_ptr<Scope>& home, CallArgs& args);

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  struct DepthGuard;

  Result<Flow> exec_body(const Body& body, const ScopePtr& scope, std::string* out);
  Result<Flow> exec(const Stmt& stmt, const ScopePtr& scope, std::string* out);
  Result<Flow> exec_if(const IfStmt& s, const ScopePtr& scope, std::string* out);
  Result<Flow> exec_for(const ForStmt& s, const ScopePtr& scope, std::string* out);
  Status exec_set(const SetStmt& s, const ScopePtr& scope);
  void exec_macro(const MacroStmt& s, const ScopePtr& scope);
  Status exec_call_block(const CallBlockStmt& s, const ScopePtr& scope, std::string* out);
  Status exec_filter_block(const FilterBlockStmt& s, const ScopePtr& scope, std::string* out);
  Status bind(const Target& target, const Value& value, Scope& scope);

  Result<Value> eval(const Expr& e, Scope& scope);
  Result<Value> eval_list(const ListExpr& e, Scope& scope);
  Result<Value> eval_dict(const DictExpr& e, Scope& scope);
  Result<Value> eval_index(const IndexExpr& e, Scope& scope);
  Result<Value> eval_slice(const SliceExpr& e, Scope& scope);
  Result<Value> eval_call(const CallExpr& e, Scope& scope);
  Result<Value> eval_unary(const UnaryExpr& e, Scope& scope);
  Result<Value> eval_binary(const BinaryExpr& e, Scope& scope);
  Result<Value> eval_filter(const FilterExpr& e, Scope& scope);
  Result<Value> eval_test(const TestExpr& e, Scope& scope);
  Result<CallArgs> eval_args(const Args& args, Scope& scope);
  Status append(std::string* out, std::string_view text) const;

  RenderOptions options_;
  ScopePtr globals_;
  uint64_t steps_ = 0;
  int depth_ = 0;
};

// ---- the built-in library (filters.cpp, jinja_tests.cpp, methods.cpp, globals.cpp) ----

using FilterFn = Result<Value> (*)(Interpreter&, const Value& operand, CallArgs& args);
using TestFn = Result<bool> (*)(Interpreter&, const Value& operand, CallArgs& args);
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

// obj.name: a dict's key, else a method bound to obj (str.upper, dict.items,
// list.append, ...); undefined when neither exists.
Result<Value> get_attribute(const Value& obj, std::string_view name);
// obj[key] for lists, strings, dicts and namespaces; undefined when missing.
Result<Value> get_item(const Value& obj, const Value& key);
// Python slicing obj[start:stop:step] of a list or string.
Result<Value> slice_value(Interpreter& interp, const Value& obj, const Value& start, const Value& stop,
                          const Value& step);

// Python's binary operators on values (all but and/or, which short-circuit).
Result<Value> binary_operator(Interpreter& interp, Op op, const Value& left, const Value& right);
// `needle in haystack` for lists, strings, dicts and namespaces.
Result<bool> contains(const Value& haystack, const Value& needle, int max_depth);

// range, namespace, dict, raise_exception, strftime_now, ...
void install_globals(Scope& scope);

}  // namespace gs::tmpl
