#include "template/interpreter.h"

#include <unordered_set>

#include "template/format.h"
#include "template/text.h"

namespace gs::tmpl {

namespace {

template <typename T>
Result<T> positioned(Pos pos, Result<T> r) {
  if (r.ok()) return r;
  return at(pos, r.status());
}

}  // namespace

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent_.get()) {
    auto it = s->vars_.find(name);
    if (it != s->vars_.end()) return &it->second;
  }
  return nullptr;
}

// Counts nested evaluation so that a recursive macro or a deep expression
// ends in an error instead of exhausting the native stack.
struct Interpreter::DepthGuard {
  explicit DepthGuard(Interpreter* in) : in_(in) { ++in_->depth_; }
  ~DepthGuard() { --in_->depth_; }
  Status check(Pos pos) const {
    if (in_->depth_ <= in_->options_.max_depth) return Status::Ok();
    return error_at(
        pos, fmt::format("nesting deeper than {} levels (a recursive macro?)", in_->options_.max_depth));
  }
  Interpreter* in_;
};

Status Interpreter::render(const Program& program, ScopePtr globals, std::string* out) {
  globals_ = std::move(globals);
  GS_ASSIGN_OR_RETURN(Flow flow, exec_body(program.body, globals_, out));
  (void)flow;  // break/continue cannot escape a loop: the parser rejects them elsewhere
  return Status::Ok();
}

// ---- services ---------------------------------------------------------------

Status Interpreter::charge(uint64_t units) {
  steps_ += units;
  if (steps_ > options_.max_steps)
    return Error("template exceeded its budget of {} steps", options_.max_steps);
  return Status::Ok();
}

Status Interpreter::check_size(size_t bytes) const {
  if (bytes > options_.max_output_bytes)
    return Error("output longer than {} bytes", options_.max_output_bytes);
  return Status::Ok();
}

Status Interpreter::append(std::string* out, std::string_view text) const {
  GS_RETURN_IF_ERROR(check_size(out->size() + text.size()));
  out->append(text);
  return Status::Ok();
}

// Walks `value` (without recursion) looking for `container`: a namespace or
// list that held itself would never be freed and would print forever.
Status Interpreter::check_no_cycle(const Value& value, const void* container) {
  std::vector<const Value*> stack = {&value};
  std::unordered_set<const void*> seen;
  while (!stack.empty()) {
    const Value* v = stack.back();
    stack.pop_back();
    const void* id = v->is_list()                          ? static_cast<const void*>(v->list_ref().get())
                     : (v->is_dict() || v->is_namespace()) ? static_cast<const void*>(v->dict_ref().get())
                                                           : nullptr;
    if (!id || !seen.insert(id).second) continue;
    if (id == container) return Error("a list or namespace cannot contain itself");
    GS_RETURN_IF_ERROR(charge(1));
    if (v->is_list()) {
      for (const Value& x : v->as_list()) stack.push_back(&x);
    } else {
      for (const auto& e : v->as_dict().entries()) stack.push_back(&e.second);
    }
  }
  return Status::Ok();
}

Result<Value> Interpreter::call(const Value& fn, CallArgs& args) {
  if (!fn.is_function()) return Error("{} is not callable", fn.type_name());
  return fn.as_function().call(*this, args);
}

Result<Value> Interpreter::apply_filter(std::string_view name, const Value& operand, CallArgs& args) {
  FilterFn f = find_filter(name);
  if (!f) return Error("unknown filter '{}'", name);
  return f(*this, operand, args);
}

Result<bool> Interpreter::apply_test(std::string_view name, const Value& operand, CallArgs& args) {
  TestFn t = find_test(name);
  if (!t) return Error("unknown test '{}'", name);
  return t(*this, operand, args);
}

// ---- statements -------------------------------------------------------------

Result<Interpreter::Flow> Interpreter::exec_body(const Body& body, const ScopePtr& scope, std::string* out) {
  for (const StmtPtr& s : body) {
    GS_ASSIGN_OR_RETURN(Flow flow, exec(*s, scope, out));
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Result<Interpreter::Flow> Interpreter::exec(const Stmt& stmt, const ScopePtr& scope, std::string* out) {
  DepthGuard guard(this);
  GS_RETURN_IF_ERROR(guard.check(stmt.pos));
  GS_RETURN_IF_ERROR(at(stmt.pos, charge(1)));
  switch (stmt.kind) {
    case Stmt::Kind::kText:
      GS_RETURN_IF_ERROR(at(stmt.pos, append(out, static_cast<const TextStmt&>(stmt).text)));
      break;
    case Stmt::Kind::kOutput: {
      const auto& s = static_cast<const OutputStmt&>(stmt);
      GS_ASSIGN_OR_RETURN(Value v, eval(*s.expr, *scope));
      GS_RETURN_IF_ERROR(at(s.pos, append_output(v, out, options_.max_output_bytes, options_.max_depth)));
      break;
    }
    case Stmt::Kind::kIf:
      return exec_if(static_cast<const IfStmt&>(stmt), scope, out);
    case Stmt::Kind::kFor:
      return exec_for(static_cast<const ForStmt&>(stmt), scope, out);
    case Stmt::Kind::kSet:
      GS_RETURN_IF_ERROR(exec_set(static_cast<const SetStmt&>(stmt), scope));
      break;
    case Stmt::Kind::kMacro:
      exec_macro(static_cast<const MacroStmt&>(stmt), scope);
      break;
    case Stmt::Kind::kCallBlock:
      GS_RETURN_IF_ERROR(exec_call_block(static_cast<const CallBlockStmt&>(stmt), scope, out));
      break;
    case Stmt::Kind::kFilterBlock:
      GS_RETURN_IF_ERROR(exec_filter_block(static_cast<const FilterBlockStmt&>(stmt), scope, out));
      break;
    case Stmt::Kind::kBreak:
      return Flow::kBreak;
    case Stmt::Kind::kContinue:
      return Flow::kContinue;
  }
  return Flow::kNormal;
}

Result<Interpreter::Flow> Interpreter::exec_if(const IfStmt& s, const ScopePtr& scope, std::string* out) {
  for (const auto& [cond, body] : s.branches) {
    GS_ASSIGN_OR_RETURN(Value v, eval(*cond, *scope));
    if (v.truthy()) return exec_body(body, scope, out);
  }
  return exec_body(s.otherwise, scope, out);
}

namespace {

// What a for loop walks: a list's items, a dict's keys, a string's characters.
Result<List> iteration_items(const Value& v, Interpreter& in) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return List{};
    case Value::Kind::kList:
      GS_RETURN_IF_ERROR(in.charge(v.as_list().size()));
      return v.as_list();  // a copy: the body may append to the list
    case Value::Kind::kDict: {
      List keys;
      for (const auto& e : v.as_dict().entries()) keys.push_back(Value::string(e.first));
      GS_RETURN_IF_ERROR(in.charge(keys.size()));
      return keys;
    }
    case Value::Kind::kString: {
      const std::string& s = v.as_string();
      std::vector<size_t> offsets = text::char_offsets(s);
      List chars;
      for (size_t i = 0; i + 1 < offsets.size(); ++i) {
        chars.push_back(Value::string(s.substr(offsets[i], offsets[i + 1] - offsets[i])));
      }
      GS_RETURN_IF_ERROR(in.charge(chars.size()));
      return chars;
    }
    default:
      return Error("cannot iterate over {}", v.type_name());
  }
}

Value loop_info(const List& items, size_t i) {
  const auto n = static_cast<int64_t>(items.size());
  const auto k = static_cast<int64_t>(i);
  Value loop = Value::dict();
  Dict& d = loop.as_dict();
  d.set("index", Value::integer(k + 1));
  d.set("index0", Value::integer(k));
  d.set("revindex", Value::integer(n - k));
  d.set("revindex0", Value::integer(n - k - 1));
  d.set("first", Value::boolean(k == 0));
  d.set("last", Value::boolean(k == n - 1));
  d.set("length", Value::integer(n));
  d.set("previtem", k > 0 ? items[i - 1] : Value());
  d.set("nextitem", k + 1 < n ? items[i + 1] : Value());
  d.set("depth", Value::integer(1));
  d.set("depth0", Value::integer(0));
  d.set("cycle", Value::function("loop.cycle", [i](Interpreter&, CallArgs& a) -> Result<Value> {
          if (a.positional.empty()) return Error("loop.cycle() needs at least one argument");
          return a.positional[i % a.positional.size()];
        }));
  return loop;
}

}  // namespace

Result<Interpreter::Flow> Interpreter::exec_for(const ForStmt& s, const ScopePtr& scope, std::string* out) {
  GS_ASSIGN_OR_RETURN(Value iterable, eval(*s.iterable, *scope));
  GS_ASSIGN_OR_RETURN(List items, positioned(s.iterable->pos, iteration_items(iterable, *this)));
  // One scope for the whole loop: assignments in the body stay inside it.
  auto loop_scope = std::make_shared<Scope>(scope);
  if (s.filter) {
    // `for x in xs if cond` filters first, so loop.index and loop.length count kept items.
    List kept;
    for (Value& item : items) {
      Scope probe(loop_scope);
      GS_RETURN_IF_ERROR(at(s.pos, bind(s.target, item, probe)));
      GS_ASSIGN_OR_RETURN(Value keep, eval(*s.filter, probe));
      if (keep.truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    GS_RETURN_IF_ERROR(at(s.pos, charge(1)));
    loop_scope->set("loop", loop_info(items, i));
    GS_RETURN_IF_ERROR(at(s.pos, bind(s.target, items[i], *loop_scope)));
    GS_ASSIGN_OR_RETURN(Flow flow, exec_body(s.body, loop_scope, out));
    if (flow == Flow::kBreak) break;
  }
  if (items.empty()) return exec_body(s.otherwise, loop_scope, out);
  return Flow::kNormal;
}

Status Interpreter::bind(const Target& target, const Value& value, Scope& scope) {
  if (!target.unpack) {
    scope.set(target.names[0], value);
    return Status::Ok();
  }
  if (!value.is_list())
    return Error("cannot unpack {} into {} names", value.type_name(), target.names.size());
  const List& items = value.as_list();
  if (items.size() != target.names.size()) {
    return Error("cannot unpack {} values into {} names", items.size(), target.names.size());
  }
  for (size_t i = 0; i < items.size(); ++i) scope.set(target.names[i], items[i]);
  return Status::Ok();
}

Status Interpreter::exec_set(const SetStmt& s, const ScopePtr& scope) {
  Value value;
  if (s.value) {
    GS_ASSIGN_OR_RETURN(value, eval(*s.value, *scope));
  } else {
    std::string body;
    GS_ASSIGN_OR_RETURN(Flow flow, exec_body(s.body, scope, &body));
    (void)flow;
    value = Value::string(std::move(body));
  }
  if (!s.object) return at(s.pos, bind(s.target, value, *scope));
  GS_ASSIGN_OR_RETURN(Value object, eval(*s.object, *scope));
  if (!object.is_namespace()) {
    return error_at(s.pos, fmt::format("cannot set attribute '{}' of {} (only namespace() objects)", s.attr,
                                       object.type_name()));
  }
  GS_RETURN_IF_ERROR(at(s.pos, check_no_cycle(value, object.dict_ref().get())));
  object.as_dict().set(s.attr, std::move(value));
  return Status::Ok();
}

void Interpreter::exec_macro(const MacroStmt& s, const ScopePtr& scope) {
  const MacroStmt* macro = &s;
  // A weak reference: a macro stored in its own scope must not keep it alive.
  std::weak_ptr<Scope> home = scope;
  scope->set(s.name, Value::function(s.name, [macro, home](Interpreter& in, CallArgs& args) {
               return in.call_body(macro->name, macro->params, macro->body, home, args);
             }));
}

Result<Value> Interpreter::call_body(std::string_view name, const std::vector<Param>& params,
                                     const Body& body, const std::weak_ptr<Scope>& home, CallArgs& args) {
  ScopePtr parent = home.lock();
  auto scope = std::make_shared<Scope>(parent ? parent : globals_);
  std::vector<bool> used(args.keyword.size(), false);
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    Value v;
    bool given = i < args.positional.size();
    if (given) v = args.positional[i];
    for (size_t k = 0; k < args.keyword.size(); ++k) {
      if (args.keyword[k].first != p.name) continue;
      if (given) return Error("{}() got multiple values for argument '{}'", name, p.name);
      v = args.keyword[k].second;
      used[k] = given = true;
    }
    if (!given && p.default_value) {
      // Defaults are evaluated in the macro's scope: they can use earlier parameters.
      GS_ASSIGN_OR_RETURN(v, eval(*p.default_value, *scope));
    }
    scope->set(p.name, std::move(v));
  }
  List varargs;
  for (size_t i = params.size(); i < args.positional.size(); ++i) varargs.push_back(args.positional[i]);
  Value kwargs = Value::dict();
  for (size_t k = 0; k < args.keyword.size(); ++k) {
    if (!used[k]) kwargs.as_dict().set(args.keyword[k].first, args.keyword[k].second);
  }
  scope->set("varargs", Value::list(std::move(varargs)));
  scope->set("kwargs", std::move(kwargs));
  if (!args.caller.is_undefined()) scope->set("caller", args.caller);
  std::string out;
  GS_ASSIGN_OR_RETURN(Flow flow, exec_body(body, scope, &out));
  (void)flow;
  return Value::string(std::move(out));
}

Status Interpreter::exec_call_block(const CallBlockStmt& s, const ScopePtr& scope, std::string* out) {
  const auto& expr = static_cast<const CallExpr&>(*s.call);
  GS_ASSIGN_OR_RETURN(Value fn, eval(*expr.callee, *scope));
  GS_ASSIGN_OR_RETURN(CallArgs args, eval_args(expr.args, *scope));
  const CallBlockStmt* block = &s;
  std::weak_ptr<Scope> home = scope;
  args.caller = Value::function("caller", [block, home](Interpreter& in, CallArgs& a) {
    return in.call_body("caller", block->caller_params, block->body, home, a);
  });
  GS_ASSIGN_OR_RETURN(Value result, positioned(expr.pos, call(fn, args)));
  return at(s.pos, append_output(result, out, options_.max_output_bytes, options_.max_depth));
}

Status Interpreter::exec_filter_block(const FilterBlockStmt& s, const ScopePtr& scope, std::string* out) {
  std::string body;
  GS_ASSIGN_OR_RETURN(Flow flow, exec_body(s.body, scope, &body));
  (void)flow;
  Value v = Value::string(std::move(body));
  for (const auto& [name, arg_exprs] : s.filters) {
    GS_ASSIGN_OR_RETURN(CallArgs args, eval_args(arg_exprs, *scope));
    GS_ASSIGN_OR_RETURN(v, positioned(s.pos, apply_filter(name, v, args)));
  }
  return at(s.pos, append_output(v, out, options_.max_output_bytes, options_.max_depth));
}

// ---- expressions ------------------------------------------------------------

Result<Value> Interpreter::eval(const Expr& e, Scope& scope) {
  DepthGuard guard(this);
  GS_RETURN_IF_ERROR(guard.check(e.pos));
  GS_RETURN_IF_ERROR(at(e.pos, charge(1)));
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      return static_cast<const LiteralExpr&>(e).value;
    case Expr::Kind::kName: {
      const Value* v = scope.find(static_cast<const NameExpr&>(e).name);
      return v ? *v : Value();
    }
    case Expr::Kind::kList:
      return eval_list(static_cast<const ListExpr&>(e), scope);
    case Expr::Kind::kDict:
      return eval_dict(static_cast<const DictExpr&>(e), scope);
    case Expr::Kind::kAttr: {
      const auto& a = static_cast<const AttrExpr&>(e);
      GS_ASSIGN_OR_RETURN(Value object, eval(*a.object, scope));
      return positioned(e.pos, get_attribute(object, a.name));
    }
    case Expr::Kind::kIndex:
      return eval_index(static_cast<const IndexExpr&>(e), scope);
    case Expr::Kind::kSlice:
      return eval_slice(static_cast<const SliceExpr&>(e), scope);
    case Expr::Kind::kCall:
      return eval_call(static_cast<const CallExpr&>(e), scope);
    case Expr::Kind::kUnary:
      return eval_unary(static_cast<const UnaryExpr&>(e), scope);
    case Expr::Kind::kBinary:
      return eval_binary(static_cast<const BinaryExpr&>(e), scope);
    case Expr::Kind::kFilter:
      return eval_filter(static_cast<const FilterExpr&>(e), scope);
    case Expr::Kind::kTest:
      return eval_test(static_cast<const TestExpr&>(e), scope);
    case Expr::Kind::kConditional: {
      const auto& c = static_cast<const ConditionalExpr&>(e);
      GS_ASSIGN_OR_RETURN(Value cond, eval(*c.condition, scope));
      if (cond.truthy()) return eval(*c.then, scope);
      return c.otherwise ? eval(*c.otherwise, scope) : Value();
    }
  }
  return Value();
}

Result<Value> Interpreter::eval_list(const ListExpr& e, Scope& scope) {
  List items;
  items.reserve(e.items.size());
  for (const ExprPtr& x : e.items) {
    GS_ASSIGN_OR_RETURN(Value v, eval(*x, scope));
    items.push_back(std::move(v));
  }
  return Value::list(std::move(items));
}

Result<Value> Interpreter::eval_dict(const DictExpr& e, Scope& scope) {
  Value d = Value::dict();
  for (const auto& [key_expr, value_expr] : e.items) {
    GS_ASSIGN_OR_RETURN(Value key, eval(*key_expr, scope));
    if (!key.is_string())
      return error_at(key_expr->pos, fmt::format("dict keys must be strings, not {}", key.type_name()));
    GS_ASSIGN_OR_RETURN(Value v, eval(*value_expr, scope));
    d.as_dict().set(key.as_string(), std::move(v));
  }
  return d;
}

Result<Value> Interpreter::eval_index(const IndexExpr& e, Scope& scope) {
  GS_ASSIGN_OR_RETURN(Value object, eval(*e.object, scope));
  GS_ASSIGN_OR_RETURN(Value key, eval(*e.index, scope));
  return positioned(e.pos, get_item(object, key));
}

Result<Value> Interpreter::eval_slice(const SliceExpr& e, Scope& scope) {
  GS_ASSIGN_OR_RETURN(Value object, eval(*e.object, scope));
  Value bounds[3];
  const ExprPtr* exprs[3] = {&e.start, &e.stop, &e.step};
  for (int i = 0; i < 3; ++i) {
    if (*exprs[i]) {
      GS_ASSIGN_OR_RETURN(bounds[i], eval(**exprs[i], scope));
    }
  }
  return positioned(e.pos, slice_value(*this, object, bounds[0], bounds[1], bounds[2]));
}

Result<CallArgs> Interpreter::eval_args(const Args& args, Scope& scope) {
  CallArgs out;
  for (const ExprPtr& x : args.positional) {
    GS_ASSIGN_OR_RETURN(Value v, eval(*x, scope));
    out.positional.push_back(std::move(v));
  }
  if (args.star) {
    GS_ASSIGN_OR_RETURN(Value v, eval(*args.star, scope));
    if (!v.is_list())
      return error_at(args.star->pos, fmt::format("*args must be a list, not {}", v.type_name()));
    for (const Value& x : v.as_list()) out.positional.push_back(x);
  }
  for (const auto& [name, x] : args.keyword) {
    GS_ASSIGN_OR_RETURN(Value v, eval(*x, scope));
    out.keyword.emplace_back(name, std::move(v));
  }
  if (args.star_star) {
    GS_ASSIGN_OR_RETURN(Value v, eval(*args.star_star, scope));
    if (!v.is_dict())
      return error_at(args.star_star->pos, fmt::format("**kwargs must be a dict, not {}", v.type_name()));
    for (const auto& [k, x] : v.as_dict().entries()) out.keyword.emplace_back(k, x);
  }
  return out;
}

Result<Value> Interpreter::eval_call(const CallExpr& e, Scope& scope) {
  GS_ASSIGN_OR_RETURN(Value fn, eval(*e.callee, scope));
  if (!fn.is_function()) {
    if (e.callee->kind == Expr::Kind::kName && fn.is_undefined()) {
      return error_at(e.pos, fmt::format("'{}' is undefined", static_cast<const NameExpr&>(*e.callee).name));
    }
    return error_at(e.pos, fmt::format("{} is not callable", fn.type_name()));
  }
  GS_ASSIGN_OR_RETURN(CallArgs args, eval_args(e.args, scope));
  return positioned(e.pos, call(fn, args));
}

Result<Value> Interpreter::eval_unary(const UnaryExpr& e, Scope& scope) {
  GS_ASSIGN_OR_RETURN(Value v, eval(*e.operand, scope));
  if (e.op == Op::kNot) return Value::boolean(!v.truthy());
  const bool neg = e.op == Op::kNeg;
  if (v.is_int() || v.is_bool()) {
    const int64_t i = v.is_int() ? v.as_int() : v.as_bool();
    if (neg && i == INT64_MIN) return Value::number(-static_cast<double>(i));
    return Value::integer(neg ? -i : i);
  }
  if (v.is_float()) return Value::number(neg ? -v.as_float() : v.as_float());
  return error_at(e.pos, fmt::format("bad operand for unary {}: {}", neg ? '-' : '+', v.type_name()));
}

Result<Value> Interpreter::eval_binary(const BinaryExpr& e, Scope& scope) {
  GS_ASSIGN_OR_RETURN(Value left, eval(*e.left, scope));
  // and/or short-circuit and yield an operand, as in Python.
  if (e.op == Op::kAnd) return left.truthy() ? eval(*e.right, scope) : left;
  if (e.op == Op::kOr) return left.truthy() ? left : eval(*e.right, scope);
  GS_ASSIGN_OR_RETURN(Value right, eval(*e.right, scope));
  return positioned(e.pos, binary_operator(*this, e.op, left, right));
}

Result<Value> Interpreter::eval_filter(const FilterExpr& e, Scope& scope) {
  GS_ASSIGN_OR_RETURN(Value operand, eval(*e.operand, scope));
  GS_ASSIGN_OR_RETURN(CallArgs args, eval_args(e.args, scope));
  return positioned(e.pos, apply_filter(e.name, operand, args));
}

Result<Value> Interpreter::eval_test(const TestExpr& e, Scope& scope) {
  GS_ASSIGN_OR_RETURN(Value operand, eval(*e.operand, scope));
  GS_ASSIGN_OR_RETURN(CallArgs args, eval_args(e.args, scope));
  GS_ASSIGN_OR_RETURN(bool result, positioned(e.pos, apply_test(e.name, operand, args)));
  return Value::boolean(result != e.negate);
}

}  // namespace gs::tmpl
