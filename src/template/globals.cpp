// Global functions every chat template may call: range, namespace, dict,
// raise_exception (templates reject unsupported conversations with it) and
// strftime_now (Llama 3.x prints today's date).
#include <ctime>

#include "template/format.h"
#include "template/interpreter.h"

namespace gs::tmpl {

namespace {

Result<Value> range(Interpreter& in, CallArgs& a) {
  GS_RETURN_IF_ERROR(a.expect("range", 3, {}));
  for (const Value& v : a.positional) {
    if (!v.is_int()) return Error("range() arguments must be integers, not {}", v.type_name());
  }
  const size_t n = a.positional.size();
  if (n == 0) return Error("range() needs at least one argument");
  const int64_t start = n == 1 ? 0 : a.positional[0].as_int();
  const int64_t stop = n == 1 ? a.positional[0].as_int() : a.positional[1].as_int();
  const int64_t step = n == 3 ? a.positional[2].as_int() : 1;
  if (step == 0) return Error("range() step must not be zero");
  const __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  const __int128 count = span <= 0 ? 0
                                   : (span + (step > 0 ? step : -static_cast<__int128>(step)) - 1) /
                                         (step > 0 ? step : -static_cast<__int128>(step));
  if (count > static_cast<__int128>(in.options().max_steps)) return Error("range() is too long");
  GS_RETURN_IF_ERROR(in.charge(static_cast<uint64_t>(count)));
  List out;
  out.reserve(static_cast<size_t>(count));
  for (__int128 i = 0, v = start; i < count; ++i, v += step)
    out.push_back(Value::integer(static_cast<int64_t>(v)));
  return Value::list(std::move(out));
}

// Entries of a dict, of [key, value] pairs, then keyword arguments.
Status fill_entries(Dict& d, const CallArgs& a, const char* fn) {
  if (a.positional.size() > 1) return Error("{}() takes at most one positional argument", fn);
  if (a.positional.size() == 1) {
    const Value& src = a.positional[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.as_dict().entries()) d.set(k, v);
    } else if (src.is_list()) {
      for (const Value& pair : src.as_list()) {
        if (!pair.is_list() || pair.as_list().size() != 2 || !pair.as_list()[0].is_string()) {
          return Error("{}() needs a dict or a list of [key, value] pairs", fn);
        }
        d.set(pair.as_list()[0].as_string(), pair.as_list()[1]);
      }
    } else {
      return Error("{}() needs a dict or a list of pairs, not {}", fn, src.type_name());
    }
  }
  for (const auto& [k, v] : a.keyword) d.set(k, v);
  return Status::Ok();
}

Result<Value> make_namespace(Interpreter&, CallArgs& a) {
  auto d = std::make_shared<Dict>();
  GS_RETURN_IF_ERROR(fill_entries(*d, a, "namespace"));
  return Value::namespace_(std::move(d));
}

Result<Value> make_dict(Interpreter&, CallArgs& a) {
  Value v = Value::dict();
  GS_RETURN_IF_ERROR(fill_entries(v.as_dict(), a, "dict"));
  return v;
}

Result<Value> raise_exception(Interpreter& in, CallArgs& a) {
  GS_ASSIGN_OR_RETURN(std::string message, to_string(a.get(0, "message"), in.options().max_output_bytes));
  return Status::Error(message.empty() ? "raise_exception() called" : message);
}

Result<Value> strftime_now(Interpreter& in, CallArgs& a) {
  Value format = a.get(0, "format");
  if (!format.is_string()) return Error("strftime_now() needs a format string");
  if (format.as_string().size() > 256) return Error("strftime_now() format is too long");
  std::tm tm{};
  if (in.options().now) {
    tm = *in.options().now;
  } else {
    const std::time_t t = std::time(nullptr);
    localtime_r(&t, &tm);
  }
  char buf[4096];
  const size_t n = std::strftime(buf, sizeof buf, format.as_string().c_str(), &tm);
  return Value::string(std::string(buf, n));
}

}  // namespace

void install_globals(Scope& scope) {
  scope.set("range", Value::function("range", range));
  scope.set("namespace", Value::function("namespace", make_namespace));
  scope.set("dict", Value::function("dict", make_dict));
  scope.set("raise_exception", Value::function("raise_exception", raise_exception));
  scope.set("strftime_now", Value::function("strftime_now", strftime_now));
}

}  // namespace gs::tmpl
