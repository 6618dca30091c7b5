// Binary operators. Arithmetic follows Python (floor division and modulo
// round toward negative infinity, bools count as 0 and 1, ints that overflow
// 64 bits continue as floats); `+` with a string on either side concatenates
// text, as @huggingface/jinja does.
#include <cmath>

#include "template/format.h"
#include "template/interpreter.h"

namespace gs::tmpl {

namespace {

bool numeric(const Value& v) { return v.is_number() || v.is_bool(); }
int64_t int_of(const Value& v) { return v.is_int() ? v.as_int() : v.as_bool() ? 1 : 0; }

Result<Value> finite(double d) {
  if (!std::isfinite(d)) return Error("arithmetic result is not a finite number");
  return Value::number(d);
}

Result<Value> int_arithmetic(Op op, int64_t a, int64_t b) {
  int64_t r = 0;
  switch (op) {
    case Op::kAdd:
      if (__builtin_add_overflow(a, b, &r)) return finite(static_cast<double>(a) + static_cast<double>(b));
      return Value::integer(r);
    case Op::kSub:
      if (__builtin_sub_overflow(a, b, &r)) return finite(static_cast<double>(a) - static_cast<double>(b));
      return Value::integer(r);
    case Op::kMul:
      if (__builtin_mul_overflow(a, b, &r)) return finite(static_cast<double>(a) * static_cast<double>(b));
      return Value::integer(r);
    case Op::kFloorDiv:
    case Op::kMod: {
      if (b == 0) return Error("integer division or modulo by zero");
      if (a == INT64_MIN && b == -1)
        return op == Op::kMod ? Value::integer(0) : finite(-static_cast<double>(a));
      int64_t q = a / b, m = a % b;
      if (m != 0 && ((m < 0) != (b < 0))) {
        --q;
        m += b;
      }
      return Value::integer(op == Op::kFloorDiv ? q : m);
    }
    case Op::kPow: {
      if (b < 0) {
        if (a == 0) return Error("0 cannot be raised to a negative power");
        return finite(std::pow(static_cast<double>(a), static_cast<double>(b)));
      }
      int64_t result = 1, base = a;
      for (int64_t e = b; e > 0; e >>= 1) {
        if ((e & 1) && __builtin_mul_overflow(result, base, &result)) {
          return finite(std::pow(static_cast<double>(a), static_cast<double>(b)));
        }
        if (e > 1 && __builtin_mul_overflow(base, base, &base)) {
          return finite(std::pow(static_cast<double>(a), static_cast<double>(b)));
        }
      }
      return Value::integer(result);
    }
    default:
      return Error("unsupported integer operator");
  }
}

Result<Value> float_arithmetic(Op op, double a, double b) {
  switch (op) {
    case Op::kAdd:
      return finite(a + b);
    case Op::kSub:
      return finite(a - b);
    case Op::kMul:
      return finite(a * b);
    case Op::kFloorDiv:
      if (b == 0) return Error("float floor division by zero");
      return finite(std::floor(a / b));
    case Op::kMod: {
      if (b == 0) return Error("float modulo by zero");
      double m = std::fmod(a, b);
      if (m != 0 && ((m < 0) != (b < 0))) m += b;
      return finite(m);
    }
    case Op::kPow:
      if (a == 0 && b < 0) return Error("0.0 cannot be raised to a negative power");
      return finite(std::pow(a, b));
    default:
      return Error("unsupported float operator");
  }
}

Result<Value> arithmetic(Op op, const Value& l, const Value& r) {
  if (op == Op::kDiv) {
    if (r.as_double() == 0) return Error("division by zero");
    return finite(l.as_double() / r.as_double());
  }
  if (l.is_float() || r.is_float()) return float_arithmetic(op, l.as_double(), r.as_double());
  return int_arithmetic(op, int_of(l), int_of(r));
}

// "ab" * 3 and [x] * 3, as in Python.
Result<Value> repeat(Interpreter& in, const Value& seq, int64_t times) {
  const size_t n = times > 0 ? static_cast<size_t>(times) : 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && n > in.options().max_output_bytes / s.size()) return Error("repeated string too long");
    GS_RETURN_IF_ERROR(in.check_size(s.size() * n));
    GS_RETURN_IF_ERROR(in.charge(s.size() * n / 64));
    std::string out;
    out.reserve(s.size() * n);
    for (size_t i = 0; i < n; ++i) out += s;
    return Value::string(std::move(out));
  }
  const List& items = seq.as_list();
  if (!items.empty() && n > in.options().max_steps / items.size()) return Error("repeated list too long");
  GS_RETURN_IF_ERROR(in.charge(items.size() * n));
  List out;
  for (size_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out));
}

Result<Value> concat_text(Interpreter& in, const Value& l, const Value& r) {
  GS_ASSIGN_OR_RETURN(std::string a, to_string(l, in.options().max_output_bytes));
  GS_ASSIGN_OR_RETURN(std::string b, to_string(r, in.options().max_output_bytes));
  GS_RETURN_IF_ERROR(in.check_size(a.size() + b.size()));
  GS_RETURN_IF_ERROR(in.charge((a.size() + b.size()) / 64));
  return Value::string(a + b);
}

Result<Value> add(Interpreter& in, const Value& l, const Value& r) {
  if (numeric(l) && numeric(r)) return arithmetic(Op::kAdd, l, r);
  if (l.is_list() && r.is_list()) {
    GS_RETURN_IF_ERROR(in.charge(l.as_list().size() + r.as_list().size()));
    List out = l.as_list();
    out.insert(out.end(), r.as_list().begin(), r.as_list().end());
    return Value::list(std::move(out));
  }
  if ((l.is_string() || r.is_string()) && !l.is_undefined() && !r.is_undefined())
    return concat_text(in, l, r);
  return Error("unsupported operand types for +: {} and {}", l.type_name(), r.type_name());
}

const char* op_text(Op op) {
  switch (op) {
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kFloorDiv:
      return "//";
    case Op::kMod:
      return "%";
    case Op::kPow:
      return "**";
    default:
      return "?";
  }
}

}  // namespace

Result<bool> contains(const Value& haystack, const Value& needle, int max_depth) {
  switch (haystack.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      if (!needle.is_string())
        return Error("'in <string>' needs a string on the left, not {}", needle.type_name());
      return haystack.as_string().find(needle.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& x : haystack.as_list()) {
        GS_ASSIGN_OR_RETURN(bool eq, values_equal(x, needle, max_depth));
        if (eq) return true;
      }
      return false;
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      return needle.is_string() && haystack.as_dict().find(needle.as_string()) != nullptr;
    default:
      return Error("argument of type {} is not iterable", haystack.type_name());
  }
}

Result<Value> binary_operator(Interpreter& in, Op op, const Value& l, const Value& r) {
  const int depth = in.options().max_depth;
  switch (op) {
    case Op::kEq:
    case Op::kNe: {
      GS_ASSIGN_OR_RETURN(bool eq, values_equal(l, r, depth));
      return Value::boolean(eq == (op == Op::kEq));
    }
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      GS_ASSIGN_OR_RETURN(int c, compare_values(l, r, true, depth));
      const bool result = op == Op::kLt ? c < 0 : op == Op::kLe ? c <= 0 : op == Op::kGt ? c > 0 : c >= 0;
      return Value::boolean(result);
    }
    case Op::kIn:
    case Op::kNotIn: {
      GS_ASSIGN_OR_RETURN(bool found, contains(r, l, depth));
      return Value::boolean(found == (op == Op::kIn));
    }
    case Op::kConcat:
      return concat_text(in, l, r);
    case Op::kAdd:
      return add(in, l, r);
    case Op::kMul:
      if ((l.is_string() || l.is_list()) && (r.is_int() || r.is_bool())) return repeat(in, l, int_of(r));
      if ((r.is_string() || r.is_list()) && (l.is_int() || l.is_bool())) return repeat(in, r, int_of(l));
      [[fallthrough]];
    default:
      if (numeric(l) && numeric(r)) return arithmetic(op, l, r);
      return Error("unsupported operand types for {}: {} and {}", op_text(op), l.type_name(), r.type_name());
  }
}

}  // namespace gs::tmpl
