#include "grammar/json_grammar.h"

#include <boost/json.hpp>

#include "grammar/grammar_internal.h"

namespace gs {

namespace json = boost::json;

JsonGrammar::JsonGrammar(std::unique_ptr<grammar::Program> program) : program_(std::move(program)) {}
JsonGrammar::~JsonGrammar() = default;

std::shared_ptr<const JsonGrammar> JsonGrammar::any_object() {
  static const std::shared_ptr<const JsonGrammar> grammar = [] {
    auto program = grammar::compile_schema(json::value{{"type", "object"}});
    assert(program.ok());
    return std::shared_ptr<const JsonGrammar>(
        new JsonGrammar(std::make_unique<grammar::Program>(std::move(program).value())));
  }();
  return grammar;
}

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::from_schema(const json::value& schema) {
  GS_ASSIGN_OR_RETURN(grammar::Program program, grammar::compile_schema(schema));
  return std::shared_ptr<const JsonGrammar>(
      new JsonGrammar(std::make_unique<grammar::Program>(std::move(program))));
}

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::from_response_format(const json::value& format) {
  const json::object* o = format.if_object();
  const json::value* type = o ? o->if_contains("type") : nullptr;
  if (!type || !type->is_string()) return Error("response_format: expected an object with a string 'type'");
  const std::string_view name = type->get_string();
  if (name == "text") return std::shared_ptr<const JsonGrammar>();
  if (name == "json_object") return any_object();
  if (name != "json_schema") return Error("response_format: unknown type '{}'", name);
  const json::value* spec = o->if_contains("json_schema");
  const json::value* schema = spec && spec->is_object() ? spec->get_object().if_contains("schema") : nullptr;
  if (!schema) return Error("response_format: json_schema.schema is missing");
  auto grammar = from_schema(*schema);
  if (!grammar.ok()) return grammar.status().with_context("response_format.json_schema.schema");
  return grammar;
}

JsonMatcher::JsonMatcher(std::shared_ptr<const JsonGrammar> grammar) : grammar_(std::move(grammar)) {
  grammar::start(grammar_->program(), frames_);
}
JsonMatcher::~JsonMatcher() = default;
JsonMatcher::JsonMatcher(const JsonMatcher& other) : grammar_(other.grammar_), frames_(other.frames_) {}
JsonMatcher& JsonMatcher::operator=(const JsonMatcher& other) {
  grammar_ = other.grammar_;
  frames_ = other.frames_;
  return *this;
}
JsonMatcher::JsonMatcher(JsonMatcher&& other) noexcept = default;
JsonMatcher& JsonMatcher::operator=(JsonMatcher&& other) noexcept = default;

bool JsonMatcher::advance(std::string_view bytes) {
  std::vector<grammar::Frame> next = frames_;
  for (char c : bytes) {
    if (!grammar::step(grammar_->program(), next, scratch_, static_cast<uint8_t>(c))) return false;
  }
  frames_.swap(next);
  return true;
}

bool JsonMatcher::complete() const { return grammar::is_complete(grammar_->program(), frames_); }

bool JsonMatcher::can_continue() const {
  std::vector<grammar::Frame> next;
  for (int b = 0; b < 256; ++b) {
    next = frames_;
    if (grammar::step(grammar_->program(), next, scratch_, static_cast<uint8_t>(b))) return true;
  }
  return false;
}

bool JsonMatcher::finished() const { return complete() && !can_continue(); }

}  // namespace gs
