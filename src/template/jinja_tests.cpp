// Jinja's built-in tests: `x is defined`, `x is string`, `n is divisibleby 3`, ...
#include "template/interpreter.h"

namespace gs::tmpl {

namespace {

Result<bool> compare_with(Interpreter& in, const Value& v, CallArgs& a, Op op) {
  GS_ASSIGN_OR_RETURN(Value r, binary_operator(in, op, v, a.get(0, "other")));
  return r.truthy();
}

Result<bool> integer_test(const Value& v, const char* name, bool (*pred)(int64_t)) {
  if (!v.is_int()) return Error("'{}' test needs an integer, not {}", name, v.type_name());
  return pred(v.as_int());
}

struct NamedTest {
  std::string_view name;
  TestFn fn;
};

#define GS_KIND_TEST(expr) [](Interpreter&, const Value& v, CallArgs&) -> Result<bool> { return (expr); }
#define GS_COMPARE_TEST(op) \
  [](Interpreter& in, const Value& v, CallArgs& a) { return compare_with(in, v, a, op); }

constexpr NamedTest kTests[] = {
    {"boolean", GS_KIND_TEST(v.is_bool())},
    {"callable", GS_KIND_TEST(v.is_function())},
    {"defined", GS_KIND_TEST(!v.is_undefined())},
    {"undefined", GS_KIND_TEST(v.is_undefined())},
    {"none", GS_KIND_TEST(v.is_none())},
    {"true", GS_KIND_TEST(v.is_bool() && v.as_bool())},
    {"false", GS_KIND_TEST(v.is_bool() && !v.as_bool())},
    {"string", GS_KIND_TEST(v.is_string())},
    {"number", GS_KIND_TEST(v.is_number())},
    {"integer", GS_KIND_TEST(v.is_int())},
    {"float", GS_KIND_TEST(v.is_float())},
    {"mapping", GS_KIND_TEST(v.is_dict())},
    {"iterable", GS_KIND_TEST(v.is_list() || v.is_string() || v.is_dict())},
    {"sequence", GS_KIND_TEST(v.is_list() || v.is_string() || v.is_dict())},
    {"lower", GS_KIND_TEST(v.is_string() &&
                           v.as_string().find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos)},
    {"upper", GS_KIND_TEST(v.is_string() &&
                           v.as_string().find_first_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos)},
    {"odd", [](Interpreter&, const Value& v,
               CallArgs&) { return integer_test(v, "odd", [](int64_t i) { return i % 2 != 0; }); }},
    {"even", [](Interpreter&, const Value& v,
                CallArgs&) { return integer_test(v, "even", [](int64_t i) { return i % 2 == 0; }); }},
    {"divisibleby",
     [](Interpreter&, const Value& v, CallArgs& a) -> Result<bool> {
       Value d = a.get(0, "num");
       if (!v.is_int() || !d.is_int()) return Error("'divisibleby' test needs integers");
       if (d.as_int() == 0) return Error("'divisibleby' 0");
       return d.as_int() == -1 || v.as_int() % d.as_int() == 0;
     }},
    {"eq", GS_COMPARE_TEST(Op::kEq)},
    {"equalto", GS_COMPARE_TEST(Op::kEq)},
    {"==", GS_COMPARE_TEST(Op::kEq)},
    {"ne", GS_COMPARE_TEST(Op::kNe)},
    {"!=", GS_COMPARE_TEST(Op::kNe)},
    {"lt", GS_COMPARE_TEST(Op::kLt)},
    {"lessthan", GS_COMPARE_TEST(Op::kLt)},
    {"<", GS_COMPARE_TEST(Op::kLt)},
    {"le", GS_COMPARE_TEST(Op::kLe)},
    {"<=", GS_COMPARE_TEST(Op::kLe)},
    {"gt", GS_COMPARE_TEST(Op::kGt)},
    {"greaterthan", GS_COMPARE_TEST(Op::kGt)},
    {">", GS_COMPARE_TEST(Op::kGt)},
    {"ge", GS_COMPARE_TEST(Op::kGe)},
    {">=", GS_COMPARE_TEST(Op::kGe)},
    {"in",
     [](Interpreter& in, const Value& v, CallArgs& a) -> Result<bool> {
       return contains(a.get(0, "seq"), v, in.options().max_depth);
     }},
    {"sameas",
     [](Interpreter& in, const Value& v, CallArgs& a) -> Result<bool> {
       const Value other = a.get(0, "other");
       if (v.kind() != other.kind()) return false;
       if (v.is_list()) return v.list_ref() == other.list_ref();
       if (v.is_dict() || v.is_namespace()) return v.dict_ref() == other.dict_ref();
       return values_equal(v, other, in.options().max_depth);
     }},
};

#undef GS_KIND_TEST
#undef GS_COMPARE_TEST

}  // namespace

TestFn find_test(std::string_view name) {
  for (const NamedTest& t : kTests) {
    if (t.name == name) return t.fn;
  }
  return nullptr;
}

}  // namespace gs::tmpl
