#include "template/template.h"

#include "template/format.h"
#include "template/interpreter.h"
#include "template/parser.h"

namespace gs::tmpl {

Result<Template> Template::parse(std::string_view source) {
  GS_ASSIGN_OR_RETURN(Program program, parse_template(source));
  return Template(std::make_shared<const Program>(std::move(program)));
}

Result<std::string> Template::render(const boost::json::object& context, const RenderOptions& options) const {
  auto globals = std::make_shared<Scope>();
  install_globals(*globals);
  for (const auto& [key, json] : context) {
    GS_ASSIGN_OR_RETURN(Value v, from_json(json, options.max_depth));
    globals->set(std::string(key), std::move(v));
  }
  Interpreter interpreter(options);
  std::string out;
  GS_RETURN_IF_ERROR(interpreter.render(*program_, std::move(globals), &out));
  return out;
}

}  // namespace gs::tmpl
