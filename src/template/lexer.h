// Template source -> tokens. Whitespace handling follows Hugging Face's chat
// template environment (trim_blocks and lstrip_blocks on, one trailing
// newline dropped, {%- -%} {{- -}} {#- -#} strip the neighbouring white space,
// transformers' {% generation %} markers removed), as @huggingface/jinja
// applies them: on the raw source text before tokenizing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gs::tmpl {

// A place in the template source: 1-based line and column (in characters).
struct Pos {
  int line = 1;
  int col = 1;
};

// "line L, column C: message": the form of every template error.
Status error_at(Pos pos, std::string_view message);
// True when `status` already names a source position (errors are positioned
// once, where they arise, and passed through unchanged above that).
bool has_position(const Status& status);
// Positions an unpositioned error at `pos`; leaves ok and positioned ones alone.
Status at(Pos pos, Status status);

enum class Tok {
  kText,             // literal text between tags
  kOpenStatement,    // {%
  kCloseStatement,   // %}
  kOpenExpression,   // {{
  kCloseExpression,  // }}
  kNumber,           // 12, 1.5, -3 (a sign right after an operator belongs to the literal)
  kString,           // the unescaped contents of '...' or "..."
  kIdent,            // names and keywords
  kOp,               // ( ) [ ] { } , . : | = and the operators
  kUnary,            // + or - in prefix position
};

struct Token {
  Tok type;
  std::string value;
  Pos pos;
};

Result<std::vector<Token>> tokenize(std::string_view source);

}  // namespace gs::tmpl
