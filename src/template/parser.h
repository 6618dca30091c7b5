// Tokens -> syntax tree. Operator precedence follows @huggingface/jinja
// (the reference for chat templates), which differs from Python Jinja in a
// few corners: filters bind tighter than unary minus, `is` tests tighter than
// `*`, comparisons do not chain, and `~` shares the level of `+`/`-`.
#pragma once

#include <string_view>

#include "template/ast.h"

namespace gs::tmpl {

// Parses a whole template. Nesting (brackets, blocks) deeper than
// `max_nesting` is an error rather than a deep recursion.
Result<Program> parse_template(std::string_view source, int max_nesting = 100);

}  // namespace gs::tmpl
