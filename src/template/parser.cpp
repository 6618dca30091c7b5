#include "template/parser.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace gs::tmpl {

namespace {

class Parser {
 public:
  Parser(std::vector<Token> tokens, int max_nesting)
      : tokens_(std::move(tokens)), max_nesting_(max_nesting) {}

  Result<Program> run();

 private:
  // Counts nesting for the guard; every recursive production holds one.
  struct Nest {
    explicit Nest(Parser* p) : p_(p) { ++p_->depth_; }
    ~Nest() { --p_->depth_; }
    Parser* p_;
  };
  Status check_depth() const;
  // Records a new node's height; a tree taller than the limit is an error
  // (long chains like a+b+c+... nest to the left without recursing here).
  Status seal(Expr& e) const;

  // ---- token access ----
  bool at_end() const { return i_ >= tokens_.size(); }
  const Token* peek(size_t ahead = 0) const {
    return i_ + ahead < tokens_.size() ? &tokens_[i_ + ahead] : nullptr;
  }
  bool is(Tok type, std::string_view value = {}, size_t ahead = 0) const;
  bool is_op(std::string_view op) const { return is(Tok::kOp, op); }
  bool is_word(std::string_view w, size_t ahead = 0) const { return is(Tok::kIdent, w, ahead); }
  bool is_statement(std::initializer_list<std::string_view> names) const;
  Pos here() const;
  Status unexpected(std::string_view expected) const;
  Status expect(Tok type, std::string_view value, std::string_view what);
  Result<std::string> expect_name(std::string_view what);

  // ---- statements ----
  Status parse_body(Body* body, std::initializer_list<std::string_view> enders, Pos opened,
                    std::string_view block);
  Status end_block(std::string_view name);
  Result<StmtPtr> parse_node();
  Result<StmtPtr> parse_statement();
  Result<StmtPtr> parse_if(Pos pos);
  Result<StmtPtr> parse_for(Pos pos);
  Result<StmtPtr> parse_set(Pos pos);
  Result<StmtPtr> parse_macro(Pos pos);
  Result<StmtPtr> parse_call_block(Pos pos);
  Result<StmtPtr> parse_filter_block(Pos pos);
  Result<Target> parse_target();
  Status parse_params(std::vector<Param>* params);

  // ---- expressions, lowest precedence first ----
  Result<ExprPtr> expression();
  Result<ExprPtr> sequence();  // a, b, c -> tuple
  Result<ExprPtr> or_expr();
  Result<ExprPtr> and_expr();
  Result<ExprPtr> not_expr();
  Result<ExprPtr> comparison();
  Result<ExprPtr> additive();
  Result<ExprPtr> multiplicative();
  Result<ExprPtr> power();
  Result<ExprPtr> test();
  Result<ExprPtr> filter();
  Result<ExprPtr> unary();
  Result<ExprPtr> postfix();
  Result<ExprPtr> primary();
  Result<ExprPtr> subscript(ExprPtr object, Pos pos);
  Result<ExprPtr> list_literal(Pos pos);
  Result<ExprPtr> dict_literal(Pos pos);
  Result<ExprPtr> number(const Token& t);
  Status parse_args(Args* args);
  bool starts_test_argument() const;

  std::vector<Token> tokens_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  int max_nesting_;
};

std::string describe(const Token* t) {
  if (!t) return "end of template";
  switch (t->type) {
    case Tok::kText:
      return "text";
    case Tok::kString:
      return "string literal";
    default:
      return "'" + t->value + "'";
  }
}

Status Parser::check_depth() const {
  if (depth_ > max_nesting_)
    return error_at(here(), fmt::format("nesting deeper than {} levels", max_nesting_));
  return Status::Ok();
}

int height_of(const ExprPtr& e) { return e ? e->height : 0; }

int args_height(const Args& a) {
  int h = std::max(height_of(a.star), height_of(a.star_star));
  for (const auto& e : a.positional) h = std::max(h, height_of(e));
  for (const auto& kw : a.keyword) h = std::max(h, height_of(kw.second));
  return h;
}

int children_height(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kList: {
      int h = 0;
      for (const auto& x : static_cast<const ListExpr&>(e).items) h = std::max(h, height_of(x));
      return h;
    }
    case Expr::Kind::kDict: {
      int h = 0;
      for (const auto& [k, v] : static_cast<const DictExpr&>(e).items)
        h = std::max({h, height_of(k), height_of(v)});
      return h;
    }
    case Expr::Kind::kAttr:
      return height_of(static_cast<const AttrExpr&>(e).object);
    case Expr::Kind::kIndex: {
      const auto& x = static_cast<const IndexExpr&>(e);
      return std::max(height_of(x.object), height_of(x.index));
    }
    case Expr::Kind::kSlice: {
      const auto& x = static_cast<const SliceExpr&>(e);
      return std::max({height_of(x.object), height_of(x.start), height_of(x.stop), height_of(x.step)});
    }
    case Expr::Kind::kCall: {
      const auto& x = static_cast<const CallExpr&>(e);
      return std::max(height_of(x.callee), args_height(x.args));
    }
    case Expr::Kind::kUnary:
      return height_of(static_cast<const UnaryExpr&>(e).operand);
    case Expr::Kind::kBinary: {
      const auto& x = static_cast<const BinaryExpr&>(e);
      return std::max(height_of(x.left), height_of(x.right));
    }
    case Expr::Kind::kFilter: {
      const auto& x = static_cast<const FilterExpr&>(e);
      return std::max(height_of(x.operand), args_height(x.args));
    }
    case Expr::Kind::kTest: {
      const auto& x = static_cast<const TestExpr&>(e);
      return std::max(height_of(x.operand), args_height(x.args));
    }
    case Expr::Kind::kConditional: {
      const auto& x = static_cast<const ConditionalExpr&>(e);
      return std::max({height_of(x.condition), height_of(x.then), height_of(x.otherwise)});
    }
    default:
      return 0;
  }
}

Status Parser::seal(Expr& e) const {
  e.height = children_height(e) + 1;
  if (e.height > max_nesting_)
    return error_at(e.pos, fmt::format("expression nested deeper than {} levels", max_nesting_));
  return Status::Ok();
}

bool Parser::is(Tok type, std::string_view value, size_t ahead) const {
  const Token* t = peek(ahead);
  return t && t->type == type && (value.empty() || t->value == value);
}

bool Parser::is_statement(std::initializer_list<std::string_view> names) const {
  if (!is(Tok::kOpenStatement) || !is(Tok::kIdent, {}, 1)) return false;
  for (std::string_view n : names) {
    if (peek(1)->value == n) return true;
  }
  return false;
}

Pos Parser::here() const {
  if (const Token* t = peek()) return t->pos;
  return tokens_.empty() ? Pos{} : tokens_.back().pos;
}

Status Parser::unexpected(std::string_view expected) const {
  return error_at(here(), fmt::format("expected {}, got {}", expected, describe(peek())));
}

Status Parser::expect(Tok type, std::string_view value, std::string_view what) {
  if (!is(type, value)) return unexpected(what);
  ++i_;
  return Status::Ok();
}

Result<std::string> Parser::expect_name(std::string_view what) {
  if (!is(Tok::kIdent)) return unexpected(what);
  return tokens_[i_++].value;
}

// ---- statements -----------------------------------------------------------

Result<Program> Parser::run() {
  Program program;
  while (!at_end()) {
    GS_ASSIGN_OR_RETURN(StmtPtr s, parse_node());
    program.body.push_back(std::move(s));
  }
  return program;
}

Status Parser::parse_body(Body* body, std::initializer_list<std::string_view> enders, Pos opened,
                          std::string_view block) {
  Nest nest(this);
  GS_RETURN_IF_ERROR(check_depth());
  while (!is_statement(enders)) {
    if (at_end()) {
      return error_at(opened, fmt::format("{{% {} %}} is not closed (expected {{% end{} %}})", block, block));
    }
    GS_ASSIGN_OR_RETURN(StmtPtr s, parse_node());
    body->push_back(std::move(s));
  }
  return Status::Ok();
}

// Consumes {% end<name> %} (Python Jinja allows the macro's name after endmacro).
Status Parser::end_block(std::string_view name) {
  i_ += 2;
  if (name == "endmacro" && is(Tok::kIdent)) ++i_;
  return expect(Tok::kCloseStatement, {}, fmt::format("'%}}' after {}", name));
}

Result<StmtPtr> Parser::parse_node() {
  const Token& t = tokens_[i_];
  switch (t.type) {
    case Tok::kText:
      ++i_;
      return StmtPtr(std::make_unique<TextStmt>(t.pos, t.value));
    case Tok::kOpenExpression: {
      ++i_;
      GS_ASSIGN_OR_RETURN(ExprPtr e, expression());
      GS_RETURN_IF_ERROR(expect(Tok::kCloseExpression, {}, "'}}'"));
      return StmtPtr(std::make_unique<OutputStmt>(t.pos, std::move(e)));
    }
    case Tok::kOpenStatement:
      return parse_statement();
    default:
      return unexpected("text, '{{' or '{%'");
  }
}

Result<StmtPtr> Parser::parse_statement() {
  const Pos pos = tokens_[i_++].pos;
  GS_ASSIGN_OR_RETURN(std::string name, expect_name("a statement name"));
  if (name == "if") return parse_if(pos);
  if (name == "for") return parse_for(pos);
  if (name == "set") return parse_set(pos);
  if (name == "macro") return parse_macro(pos);
  if (name == "call") return parse_call_block(pos);
  if (name == "filter") return parse_filter_block(pos);
  if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) return error_at(pos, fmt::format("'{}' outside a for loop", name));
    GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}'"));
    return StmtPtr(std::make_unique<Stmt>(name == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue, pos));
  }
  return error_at(pos, fmt::format("unknown or misplaced statement '{}'", name));
}

Result<StmtPtr> Parser::parse_if(Pos pos) {
  auto stmt = std::make_unique<IfStmt>(pos);
  while (true) {
    GS_ASSIGN_OR_RETURN(ExprPtr cond, expression());
    GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}' after the condition"));
    Body body;
    GS_RETURN_IF_ERROR(parse_body(&body, {"elif", "else", "endif"}, pos, "if"));
    stmt->branches.emplace_back(std::move(cond), std::move(body));
    if (!is_word("elif", 1)) break;
    i_ += 2;
  }
  if (is_word("else", 1)) {
    i_ += 2;
    GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}' after else"));
    GS_RETURN_IF_ERROR(parse_body(&stmt->otherwise, {"endif"}, pos, "if"));
  }
  GS_RETURN_IF_ERROR(end_block("endif"));
  return StmtPtr(std::move(stmt));
}

Result<Target> Parser::parse_target() {
  Target target;
  const bool paren = is_op("(");
  if (paren) ++i_;
  while (true) {
    GS_ASSIGN_OR_RETURN(std::string name, expect_name("a variable name"));
    target.names.push_back(std::move(name));
    if (!is_op(",")) break;
    ++i_;
    target.unpack = true;
    if (paren && is_op(")")) break;
  }
  if (paren) {
    GS_RETURN_IF_ERROR(expect(Tok::kOp, ")", "')'"));
    target.unpack = true;
  }
  return target;
}

Result<StmtPtr> Parser::parse_for(Pos pos) {
  auto stmt = std::make_unique<ForStmt>(pos);
  GS_ASSIGN_OR_RETURN(stmt->target, parse_target());
  GS_RETURN_IF_ERROR(expect(Tok::kIdent, "in", "'in'"));
  GS_ASSIGN_OR_RETURN(stmt->iterable, or_expr());
  if (is_word("if")) {
    ++i_;
    GS_ASSIGN_OR_RETURN(stmt->filter, or_expr());
  }
  if (is_word("recursive")) return error_at(here(), "recursive loops are not supported");
  GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}' after the for loop header"));
  ++loop_depth_;
  Status body = parse_body(&stmt->body, {"else", "endfor"}, pos, "for");
  --loop_depth_;
  GS_RETURN_IF_ERROR(body);
  if (is_word("else", 1)) {
    i_ += 2;
    GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}' after else"));
    GS_RETURN_IF_ERROR(parse_body(&stmt->otherwise, {"endfor"}, pos, "for"));
  }
  GS_RETURN_IF_ERROR(end_block("endfor"));
  return StmtPtr(std::move(stmt));
}

Result<StmtPtr> Parser::parse_set(Pos pos) {
  auto stmt = std::make_unique<SetStmt>(pos);
  if (is(Tok::kIdent) && is(Tok::kOp, ".", 1)) {
    const Token& obj = tokens_[i_];
    stmt->object = std::make_unique<NameExpr>(obj.pos, obj.value);
    i_ += 2;
    GS_ASSIGN_OR_RETURN(stmt->attr, expect_name("an attribute name"));
  } else {
    GS_ASSIGN_OR_RETURN(stmt->target, parse_target());
  }
  if (is_op("=")) {
    ++i_;
    GS_ASSIGN_OR_RETURN(stmt->value, sequence());
    GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}' after the value"));
    return StmtPtr(std::move(stmt));
  }
  GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'=' or '%}'"));
  GS_RETURN_IF_ERROR(parse_body(&stmt->body, {"endset"}, pos, "set"));
  GS_RETURN_IF_ERROR(end_block("endset"));
  return StmtPtr(std::move(stmt));
}

Status Parser::parse_params(std::vector<Param>* params) {
  GS_RETURN_IF_ERROR(expect(Tok::kOp, "(", "'('"));
  while (!is_op(")")) {
    Param p;
    GS_ASSIGN_OR_RETURN(p.name, expect_name("a parameter name"));
    for (const Param& q : *params) {
      if (q.name == p.name) return error_at(here(), fmt::format("duplicate parameter '{}'", p.name));
    }
    if (is_op("=")) {
      ++i_;
      GS_ASSIGN_OR_RETURN(p.default_value, expression());
    } else if (!params->empty() && params->back().default_value) {
      return error_at(here(), "a parameter without default follows one with a default");
    }
    params->push_back(std::move(p));
    if (!is_op(",")) break;
    ++i_;
  }
  return expect(Tok::kOp, ")", "')' after the parameters");
}

Result<StmtPtr> Parser::parse_macro(Pos pos) {
  auto stmt = std::make_unique<MacroStmt>(pos);
  GS_ASSIGN_OR_RETURN(stmt->name, expect_name("a macro name"));
  GS_RETURN_IF_ERROR(parse_params(&stmt->params));
  GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}' after the macro header"));
  const int outer_loops = loop_depth_;
  loop_depth_ = 0;  // a macro body is not inside the loop around its definition
  Status body = parse_body(&stmt->body, {"endmacro"}, pos, "macro");
  loop_depth_ = outer_loops;
  GS_RETURN_IF_ERROR(body);
  GS_RETURN_IF_ERROR(end_block("endmacro"));
  return StmtPtr(std::move(stmt));
}

Result<StmtPtr> Parser::parse_call_block(Pos pos) {
  auto stmt = std::make_unique<CallBlockStmt>(pos);
  if (is_op("(")) GS_RETURN_IF_ERROR(parse_params(&stmt->caller_params));
  GS_ASSIGN_OR_RETURN(stmt->call, postfix());
  if (stmt->call->kind != Expr::Kind::kCall)
    return error_at(stmt->call->pos, "{% call %} needs a macro call");
  GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}' after the call"));
  GS_RETURN_IF_ERROR(parse_body(&stmt->body, {"endcall"}, pos, "call"));
  GS_RETURN_IF_ERROR(end_block("endcall"));
  return StmtPtr(std::move(stmt));
}

Result<StmtPtr> Parser::parse_filter_block(Pos pos) {
  auto stmt = std::make_unique<FilterBlockStmt>(pos);
  while (true) {
    GS_ASSIGN_OR_RETURN(std::string name, expect_name("a filter name"));
    Args args;
    if (is_op("(")) GS_RETURN_IF_ERROR(parse_args(&args));
    stmt->filters.emplace_back(std::move(name), std::move(args));
    if (!is_op("|")) break;
    ++i_;
  }
  GS_RETURN_IF_ERROR(expect(Tok::kCloseStatement, {}, "'%}' after the filter"));
  GS_RETURN_IF_ERROR(parse_body(&stmt->body, {"endfilter"}, pos, "filter"));
  GS_RETURN_IF_ERROR(end_block("endfilter"));
  return StmtPtr(std::move(stmt));
}

// ---- expressions ----------------------------------------------------------

Result<ExprPtr> Parser::expression() {
  Nest nest(this);
  GS_RETURN_IF_ERROR(check_depth());
  GS_ASSIGN_OR_RETURN(ExprPtr value, or_expr());
  if (!is_word("if")) return value;
  auto cond = std::make_unique<ConditionalExpr>(tokens_[i_++].pos);
  cond->then = std::move(value);
  GS_ASSIGN_OR_RETURN(cond->condition, or_expr());
  if (is_word("else")) {
    ++i_;
    GS_ASSIGN_OR_RETURN(cond->otherwise, expression());
  }
  GS_RETURN_IF_ERROR(seal(*cond));
  return ExprPtr(std::move(cond));
}

Result<ExprPtr> Parser::sequence() {
  const Pos pos = here();
  GS_ASSIGN_OR_RETURN(ExprPtr first, expression());
  if (!is_op(",")) return first;
  auto tuple = std::make_unique<ListExpr>(pos, true);
  tuple->items.push_back(std::move(first));
  while (is_op(",")) {
    ++i_;
    if (is_op(")") || is(Tok::kCloseStatement) || is(Tok::kCloseExpression)) break;
    GS_ASSIGN_OR_RETURN(ExprPtr next, expression());
    tuple->items.push_back(std::move(next));
  }
  GS_RETURN_IF_ERROR(seal(*tuple));
  return ExprPtr(std::move(tuple));
}

Result<ExprPtr> Parser::or_expr() {
  GS_ASSIGN_OR_RETURN(ExprPtr left, and_expr());
  while (is_word("or")) {
    const Pos pos = tokens_[i_++].pos;
    GS_ASSIGN_OR_RETURN(ExprPtr right, and_expr());
    left = std::make_unique<BinaryExpr>(pos, Op::kOr, std::move(left), std::move(right));
    GS_RETURN_IF_ERROR(seal(*left));
  }
  return left;
}

Result<ExprPtr> Parser::and_expr() {
  GS_ASSIGN_OR_RETURN(ExprPtr left, not_expr());
  while (is_word("and")) {
    const Pos pos = tokens_[i_++].pos;
    GS_ASSIGN_OR_RETURN(ExprPtr right, not_expr());
    left = std::make_unique<BinaryExpr>(pos, Op::kAnd, std::move(left), std::move(right));
    GS_RETURN_IF_ERROR(seal(*left));
  }
  return left;
}

Result<ExprPtr> Parser::not_expr() {
  if (!is_word("not")) return comparison();
  Nest nest(this);
  GS_RETURN_IF_ERROR(check_depth());
  const Pos pos = tokens_[i_++].pos;
  GS_ASSIGN_OR_RETURN(ExprPtr operand, not_expr());
  auto e = std::make_unique<UnaryExpr>(pos, Op::kNot, std::move(operand));
  GS_RETURN_IF_ERROR(seal(*e));
  return ExprPtr(std::move(e));
}

Result<ExprPtr> Parser::comparison() {
  static const std::pair<std::string_view, Op> kOps[] = {{"==", Op::kEq}, {"!=", Op::kNe}, {"<", Op::kLt},
                                                         {"<=", Op::kLe}, {">", Op::kGt},  {">=", Op::kGe}};
  GS_ASSIGN_OR_RETURN(ExprPtr left, additive());
  while (true) {
    const Pos pos = here();
    Op op;
    if (is_word("not") && is_word("in", 1)) {
      op = Op::kNotIn;
      i_ += 2;
    } else if (is_word("in")) {
      op = Op::kIn;
      ++i_;
    } else {
      const Op* found = nullptr;
      for (const auto& [text, o] : kOps) {
        if (is_op(text)) found = &o;
      }
      if (!found) return left;
      op = *found;
      ++i_;
    }
    GS_ASSIGN_OR_RETURN(ExprPtr right, additive());
    left = std::make_unique<BinaryExpr>(pos, op, std::move(left), std::move(right));
    GS_RETURN_IF_ERROR(seal(*left));
  }
}

Result<ExprPtr> Parser::additive() {
  GS_ASSIGN_OR_RETURN(ExprPtr left, multiplicative());
  while (is_op("+") || is_op("-") || is_op("~")) {
    const Token& t = tokens_[i_++];
    const Op op = t.value == "+" ? Op::kAdd : t.value == "-" ? Op::kSub : Op::kConcat;
    GS_ASSIGN_OR_RETURN(ExprPtr right, multiplicative());
    left = std::make_unique<BinaryExpr>(t.pos, op, std::move(left), std::move(right));
    GS_RETURN_IF_ERROR(seal(*left));
  }
  return left;
}

Result<ExprPtr> Parser::multiplicative() {
  GS_ASSIGN_OR_RETURN(ExprPtr left, power());
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    const Token& t = tokens_[i_++];
    const Op op = t.value == "*"    ? Op::kMul
                  : t.value == "/"  ? Op::kDiv
                  : t.value == "//" ? Op::kFloorDiv
                                    : Op::kMod;
    GS_ASSIGN_OR_RETURN(ExprPtr right, power());
    left = std::make_unique<BinaryExpr>(t.pos, op, std::move(left), std::move(right));
    GS_RETURN_IF_ERROR(seal(*left));
  }
  return left;
}

Result<ExprPtr> Parser::power() {
  GS_ASSIGN_OR_RETURN(ExprPtr left, test());
  while (is_op("**")) {
    const Pos pos = tokens_[i_++].pos;
    GS_ASSIGN_OR_RETURN(ExprPtr right, test());
    left = std::make_unique<BinaryExpr>(pos, Op::kPow, std::move(left), std::move(right));
    GS_RETURN_IF_ERROR(seal(*left));
  }
  return left;
}

// Python Jinja lets a test take one argument without parentheses:
// `x is divisibleby 3`, `x is sameas none`.
bool Parser::starts_test_argument() const {
  const Token* t = peek();
  if (!t) return false;
  if (t->type == Tok::kNumber || t->type == Tok::kString) return true;
  if (t->type == Tok::kOp) return t->value == "[" || t->value == "{";
  if (t->type != Tok::kIdent) return false;
  for (std::string_view w : {"and", "or", "else", "if", "in", "not", "is"}) {
    if (t->value == w) return false;
  }
  return true;
}

Result<ExprPtr> Parser::test() {
  GS_ASSIGN_OR_RETURN(ExprPtr operand, filter());
  while (is_word("is")) {
    const Pos pos = tokens_[i_++].pos;
    const bool negate = is_word("not");
    if (negate) ++i_;
    GS_ASSIGN_OR_RETURN(std::string name, expect_name("a test name"));
    auto t = std::make_unique<TestExpr>(pos, std::move(operand), std::move(name), negate);
    if (is_op("(")) {
      GS_RETURN_IF_ERROR(parse_args(&t->args));
    } else if (starts_test_argument()) {
      GS_ASSIGN_OR_RETURN(ExprPtr arg, postfix());
      t->args.positional.push_back(std::move(arg));
    }
    GS_RETURN_IF_ERROR(seal(*t));
    operand = std::move(t);
  }
  return operand;
}

Result<ExprPtr> Parser::filter() {
  GS_ASSIGN_OR_RETURN(ExprPtr operand, unary());
  while (is_op("|")) {
    const Pos pos = tokens_[i_++].pos;
    GS_ASSIGN_OR_RETURN(std::string name, expect_name("a filter name"));
    auto f = std::make_unique<FilterExpr>(pos, std::move(operand), std::move(name));
    if (is_op("(")) GS_RETURN_IF_ERROR(parse_args(&f->args));
    GS_RETURN_IF_ERROR(seal(*f));
    operand = std::move(f);
  }
  return operand;
}

Result<ExprPtr> Parser::unary() {
  if (!(is(Tok::kUnary) || is_op("-") || is_op("+"))) return postfix();
  Nest nest(this);
  GS_RETURN_IF_ERROR(check_depth());
  const Token& t = tokens_[i_++];
  GS_ASSIGN_OR_RETURN(ExprPtr operand, unary());
  auto e = std::make_unique<UnaryExpr>(t.pos, t.value == "-" ? Op::kNeg : Op::kPos, std::move(operand));
  GS_RETURN_IF_ERROR(seal(*e));
  return ExprPtr(std::move(e));
}

Result<ExprPtr> Parser::postfix() {
  GS_ASSIGN_OR_RETURN(ExprPtr e, primary());
  while (true) {
    const Pos pos = here();
    if (is_op(".")) {
      ++i_;
      if (is(Tok::kNumber)) {
        GS_ASSIGN_OR_RETURN(ExprPtr index, number(tokens_[i_++]));
        e = std::make_unique<IndexExpr>(pos, std::move(e), std::move(index));
        GS_RETURN_IF_ERROR(seal(*e));
        continue;
      }
      GS_ASSIGN_OR_RETURN(std::string name, expect_name("an attribute name"));
      e = std::make_unique<AttrExpr>(pos, std::move(e), std::move(name));
    } else if (is_op("[")) {
      ++i_;
      GS_ASSIGN_OR_RETURN(e, subscript(std::move(e), pos));
    } else if (is_op("(")) {
      const Pos start = e->pos;  // errors of a call point at what is called
      auto call = std::make_unique<CallExpr>(start, std::move(e));
      GS_RETURN_IF_ERROR(parse_args(&call->args));
      e = std::move(call);
    } else {
      return e;
    }
    GS_RETURN_IF_ERROR(seal(*e));
  }
}

Result<ExprPtr> Parser::subscript(ExprPtr object, Pos pos) {
  ExprPtr parts[3];
  int colons = 0;
  while (!is_op("]")) {
    if (is_op(":")) {
      if (++colons > 2) return error_at(here(), "a slice takes at most start:stop:step");
      ++i_;
      continue;
    }
    if (parts[colons]) return unexpected("':' or ']'");
    GS_ASSIGN_OR_RETURN(parts[colons], expression());
  }
  ++i_;
  if (colons == 0) {
    if (!parts[0]) return error_at(pos, "empty subscript []");
    auto index = std::make_unique<IndexExpr>(pos, std::move(object), std::move(parts[0]));
    GS_RETURN_IF_ERROR(seal(*index));
    return ExprPtr(std::move(index));
  }
  auto slice = std::make_unique<SliceExpr>(pos, std::move(object));
  slice->start = std::move(parts[0]);
  slice->stop = std::move(parts[1]);
  slice->step = std::move(parts[2]);
  GS_RETURN_IF_ERROR(seal(*slice));
  return ExprPtr(std::move(slice));
}

Status Parser::parse_args(Args* args) {
  Nest nest(this);
  GS_RETURN_IF_ERROR(check_depth());
  ++i_;  // (
  while (!is_op(")")) {
    if (is_op("*") || is_op("**")) {
      const bool two = tokens_[i_++].value == "**";
      GS_ASSIGN_OR_RETURN(ExprPtr e, expression());
      (two ? args->star_star : args->star) = std::move(e);
    } else if (is(Tok::kIdent) && is(Tok::kOp, "=", 1)) {
      std::string name = tokens_[i_].value;
      i_ += 2;
      GS_ASSIGN_OR_RETURN(ExprPtr e, expression());
      args->keyword.emplace_back(std::move(name), std::move(e));
    } else {
      if (!args->keyword.empty()) return error_at(here(), "positional argument after a keyword argument");
      GS_ASSIGN_OR_RETURN(ExprPtr e, expression());
      args->positional.push_back(std::move(e));
    }
    if (!is_op(",")) break;
    ++i_;
  }
  return expect(Tok::kOp, ")", "')' after the arguments");
}

Result<ExprPtr> Parser::number(const Token& t) {
  const char* b = t.value.data();
  const char* e = b + t.value.size();
  if (t.value.find('.') == std::string::npos) {
    int64_t v = 0;
    auto r = std::from_chars(b + (*b == '+' ? 1 : 0), e, v);
    if (r.ec == std::errc() && r.ptr == e)
      return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::integer(v)));
  }
  // Fractions, and integers too large for 64 bits (JavaScript numbers are doubles).
  return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::number(std::strtod(t.value.c_str(), nullptr))));
}

Result<ExprPtr> Parser::primary() {
  if (at_end()) return unexpected("an expression");
  const Token& t = tokens_[i_];
  if (t.type == Tok::kNumber) {
    ++i_;
    return number(t);
  }
  if (t.type == Tok::kString) {
    std::string s;
    while (is(Tok::kString)) s += tokens_[i_++].value;  // adjacent literals concatenate
    return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::string(std::move(s))));
  }
  if (t.type == Tok::kIdent) {
    ++i_;
    if (t.value == "true" || t.value == "True")
      return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::boolean(true)));
    if (t.value == "false" || t.value == "False") {
      return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::boolean(false)));
    }
    if (t.value == "none" || t.value == "None")
      return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::none()));
    return ExprPtr(std::make_unique<NameExpr>(t.pos, t.value));
  }
  if (t.type == Tok::kOp && t.value == "(") {
    Nest nest(this);
    GS_RETURN_IF_ERROR(check_depth());
    ++i_;
    if (is_op(")")) {
      ++i_;
      return ExprPtr(std::make_unique<ListExpr>(t.pos, true));
    }
    GS_ASSIGN_OR_RETURN(ExprPtr inner, sequence());
    GS_RETURN_IF_ERROR(expect(Tok::kOp, ")", "')'"));
    return inner;
  }
  if (t.type == Tok::kOp && t.value == "[") return list_literal(t.pos);
  if (t.type == Tok::kOp && t.value == "{") return dict_literal(t.pos);
  return unexpected("an expression");
}

Result<ExprPtr> Parser::list_literal(Pos pos) {
  Nest nest(this);
  GS_RETURN_IF_ERROR(check_depth());
  ++i_;
  auto list = std::make_unique<ListExpr>(pos, false);
  while (!is_op("]")) {
    GS_ASSIGN_OR_RETURN(ExprPtr item, expression());
    list->items.push_back(std::move(item));
    if (!is_op(",")) break;
    ++i_;
  }
  GS_RETURN_IF_ERROR(expect(Tok::kOp, "]", "',' or ']'"));
  GS_RETURN_IF_ERROR(seal(*list));
  return ExprPtr(std::move(list));
}

Result<ExprPtr> Parser::dict_literal(Pos pos) {
  Nest nest(this);
  GS_RETURN_IF_ERROR(check_depth());
  ++i_;
  auto dict = std::make_unique<DictExpr>(pos);
  while (!is_op("}")) {
    GS_ASSIGN_OR_RETURN(ExprPtr key, expression());
    GS_RETURN_IF_ERROR(expect(Tok::kOp, ":", "':' after a dict key"));
    GS_ASSIGN_OR_RETURN(ExprPtr value, expression());
    dict->items.emplace_back(std::move(key), std::move(value));
    if (!is_op(",")) break;
    ++i_;
  }
  GS_RETURN_IF_ERROR(expect(Tok::kOp, "}", "',' or '}'"));
  GS_RETURN_IF_ERROR(seal(*dict));
  return ExprPtr(std::move(dict));
}

}  // namespace

Result<Program> parse_template(std::string_view source, int max_nesting) {
  GS_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source));
  Parser parser(std::move(tokens), max_nesting);
  return parser.run();
}

}  // namespace gs::tmpl
