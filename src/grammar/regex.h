// Regular expressions for JSON Schema `pattern` (and the formats enforced
// through patterns), compiled to a deterministic automaton over the UTF-8
// bytes of a string. The automaton answers byte by byte whether a prefix can
// still match, which is what constrained decoding needs; a backtracking engine
// cannot.
//
// Syntax: the ECMAScript subset that schemas use -- literals, `.`, classes
// with ranges and negation, \d \w \s (and negations), \n \t \r \f \v \0 \xHH
// \uHHHH escapes, groups ((...), (?:...), (?<name>...)), alternation,
// * + ? {n} {n,} {n,m} (lazy forms match the same strings), `^` at the start
// and `$` at the end of a top-level alternative. Without `^`/`$` the pattern
// may match anywhere in the string, as JSON Schema specifies. Backreferences,
// lookaround and word boundaries fail with a message naming them.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gs::grammar {

struct Dfa {
  static constexpr int32_t kDead = -1;
  static constexpr uint32_t kUnbounded = 0xffffffff;

  // Only states from which an accepting state is reachable are kept; state 0
  // is the start. No states: the pattern matches nothing.
  std::vector<int32_t> next;  // [state * 256 + byte] -> state or kDead
  std::vector<uint8_t> accepting;
  // Fewest and most characters (not bytes) still to come before acceptance;
  // max_chars is kUnbounded where a loop is reachable.
  std::vector<uint32_t> min_chars;
  std::vector<uint32_t> max_chars;

  bool empty() const { return accepting.empty(); }
  int32_t step(int32_t state, uint8_t byte) const { return next[static_cast<size_t>(state) * 256 + byte]; }
  // Whether the whole of `text` is accepted.
  bool matches(std::string_view text) const;
};

Result<Dfa> compile_regex(std::string_view pattern);

// The same automaton without the bytes a JSON string cannot hold raw ('"',
// '\\', control characters): what a decoder emitting no escapes can follow.
Dfa without_escaped_bytes(const Dfa& dfa);

}  // namespace gs::grammar
