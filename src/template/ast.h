// The syntax tree of a parsed template: expressions and statements, each with
// the source position that errors point at.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/lexer.h"
#include "template/value.h"

namespace gs::tmpl {

struct Expr {
  enum class Kind {
    kLiteral,      // 'text', 12, 1.5, true, none
    kName,         // a variable
    kList,         // [a, b] and tuples (a, b)
    kDict,         // {'k': v}
    kAttr,         // obj.name
    kIndex,        // obj[key]
    kSlice,        // obj[start:stop:step]
    kCall,         // f(args)
    kUnary,        // not x, -x, +x
    kBinary,       // x op y
    kFilter,       // x | f(args)
    kTest,         // x is [not] t(args)
    kConditional,  // a if cond else b (else optional: undefined)
  };
  Expr(Kind k, Pos p) : kind(k), pos(p) {}
  virtual ~Expr() = default;
  Kind kind;
  Pos pos;
  int height = 1;  // levels of the tree below and including this node (bounded by the parser)
};
using ExprPtr = std::unique_ptr<Expr>;

struct Args {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
  ExprPtr star;       // *list
  ExprPtr star_star;  // **dict
};

struct LiteralExpr : Expr {
  LiteralExpr(Pos p, Value v) : Expr(Kind::kLiteral, p), value(std::move(v)) {}
  Value value;  // never a container (literals of lists and dicts are ListExpr/DictExpr)
};
struct NameExpr : Expr {
  NameExpr(Pos p, std::string n) : Expr(Kind::kName, p), name(std::move(n)) {}
  std::string name;
};
struct ListExpr : Expr {
  ListExpr(Pos p, bool t) : Expr(Kind::kList, p), tuple(t) {}
  std::vector<ExprPtr> items;
  bool tuple;
};
struct DictExpr : Expr {
  explicit DictExpr(Pos p) : Expr(Kind::kDict, p) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};
struct AttrExpr : Expr {
  AttrExpr(Pos p, ExprPtr o, std::string n)
      : Expr(Kind::kAttr, p), object(std::move(o)), name(std::move(n)) {}
  ExprPtr object;
  std::string name;
};
struct IndexExpr : Expr {
  IndexExpr(Pos p, ExprPtr o, ExprPtr i) : Expr(Kind::kIndex, p), object(std::move(o)), index(std::move(i)) {}
  ExprPtr object, index;
};
struct SliceExpr : Expr {
  SliceExpr(Pos p, ExprPtr o) : Expr(Kind::kSlice, p), object(std::move(o)) {}
  ExprPtr object, start, stop, step;  // null when omitted
};
struct CallExpr : Expr {
  CallExpr(Pos p, ExprPtr c) : Expr(Kind::kCall, p), callee(std::move(c)) {}
  ExprPtr callee;
  Args args;
};

enum class Op {
  kNot,
  kNeg,
  kPos,
  kAnd,
  kOr,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kFloorDiv,
  kMod,
  kPow,
  kConcat,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kNotIn
};

struct UnaryExpr : Expr {
  UnaryExpr(Pos p, Op o, ExprPtr x) : Expr(Kind::kUnary, p), op(o), operand(std::move(x)) {}
  Op op;
  ExprPtr operand;
};
struct BinaryExpr : Expr {
  BinaryExpr(Pos p, Op o, ExprPtr l, ExprPtr r)
      : Expr(Kind::kBinary, p), op(o), left(std::move(l)), right(std::move(r)) {}
  Op op;
  ExprPtr left, right;
};
struct FilterExpr : Expr {
  FilterExpr(Pos p, ExprPtr x, std::string n)
      : Expr(Kind::kFilter, p), operand(std::move(x)), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  Args args;
};
struct TestExpr : Expr {
  TestExpr(Pos p, ExprPtr x, std::string n, bool neg)
      : Expr(Kind::kTest, p), operand(std::move(x)), name(std::move(n)), negate(neg) {}
  ExprPtr operand;
  std::string name;
  bool negate;
  Args args;
};
struct ConditionalExpr : Expr {
  explicit ConditionalExpr(Pos p) : Expr(Kind::kConditional, p) {}
  ExprPtr condition, then, otherwise;  // otherwise may be null
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind { kText, kOutput, kIf, kFor, kSet, kMacro, kCallBlock, kFilterBlock, kBreak, kContinue };
  Stmt(Kind k, Pos p) : kind(k), pos(p) {}
  virtual ~Stmt() = default;
  Kind kind;
  Pos pos;
};

struct TextStmt : Stmt {
  TextStmt(Pos p, std::string t) : Stmt(Kind::kText, p), text(std::move(t)) {}
  std::string text;
};
struct OutputStmt : Stmt {
  OutputStmt(Pos p, ExprPtr e) : Stmt(Kind::kOutput, p), expr(std::move(e)) {}
  ExprPtr expr;
};
struct IfStmt : Stmt {
  explicit IfStmt(Pos p) : Stmt(Kind::kIf, p) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if, then each elif
  Body otherwise;
};
// The names a for loop or set binds: one name, or several unpacked from a sequence.
struct Target {
  std::vector<std::string> names;
  bool unpack = false;
};
struct ForStmt : Stmt {
  explicit ForStmt(Pos p) : Stmt(Kind::kFor, p) {}
  Target target;
  ExprPtr iterable;
  ExprPtr filter;  // `for x in xs if cond`
  Body body, otherwise;
};
struct SetStmt : Stmt {
  explicit SetStmt(Pos p) : Stmt(Kind::kSet, p) {}
  Target target;
  ExprPtr object;  // set object.attr = ... (namespaces)
  std::string attr;
  ExprPtr value;  // null for a block set: {% set x %}body{% endset %}
  Body body;
};
struct Param {
  std::string name;
  ExprPtr default_value;  // may be null
};
struct MacroStmt : Stmt {
  explicit MacroStmt(Pos p) : Stmt(Kind::kMacro, p) {}
  std::string name;
  std::vector<Param> params;
  Body body;
};
struct CallBlockStmt : Stmt {
  explicit CallBlockStmt(Pos p) : Stmt(Kind::kCallBlock, p) {}
  std::vector<Param> caller_params;
  ExprPtr call;  // a CallExpr
  Body body;
};
struct FilterBlockStmt : Stmt {
  explicit FilterBlockStmt(Pos p) : Stmt(Kind::kFilterBlock, p) {}
  std::vector<std::pair<std::string, Args>> filters;  // applied left to right
  Body body;
};

struct Program {
  Body body;
};

}  // namespace gs::tmpl
