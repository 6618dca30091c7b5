// A Jinja2 template parsed once and rendered many times. Templates are
// untrusted input (they ship inside model files): every error, syntax or
// runtime, comes back as a Status "line L, column C: message", and rendering
// is bounded in output size, work and nesting depth.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/status.h"

namespace gs::tmpl {

struct Program;

struct RenderOptions {
  size_t max_output_bytes = 16u << 20;  // also caps every string a template builds
  uint64_t max_steps = 50'000'000;      // evaluated nodes + loop iterations + elements copied
  int max_depth = 200;                  // nested evaluation: macro calls, expressions, blocks
  // The clock strftime_now() reads (broken-down local time); now when unset.
  std::optional<std::tm> now;
};

class Template {
 public:
  static Result<Template> parse(std::string_view source);

  // Renders with `context` as the global variables (JSON values; integral
  // numbers become ints).
  Result<std::string> render(const boost::json::object& context, const RenderOptions& options = {}) const;

 private:
  explicit Template(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

}  // namespace gs::tmpl
