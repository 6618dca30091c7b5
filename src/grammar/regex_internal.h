// Parsed form of a pattern (see regex.h), between regex_parse.cpp and regex_dfa.cpp.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gs::grammar::re {

// Code point ranges, inclusive, sorted, disjoint, without surrogates.
using CharSet = std::vector<std::pair<uint32_t, uint32_t>>;

inline constexpr uint32_t kMaxCodePoint = 0x10FFFF;
inline constexpr uint32_t kRepeatUnbounded = 0xffffffff;

struct AstNode {
  enum Kind { kEmpty, kSet, kConcat, kAlt, kRepeat } kind = kEmpty;
  CharSet set;                // kSet
  std::vector<int> children;  // kConcat, kAlt: several; kRepeat: one
  uint32_t min = 0, max = 0;  // kRepeat
};

struct Ast {
  std::vector<AstNode> nodes;
  int root = -1;
};

Result<Ast> parse(std::string_view pattern);

// Set algebra on CharSet.
CharSet normalized(CharSet set);  // sorts, merges, removes surrogates
CharSet complement(const CharSet& set);

}  // namespace gs::grammar::re
