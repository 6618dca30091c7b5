// Constrained decoding: the tokens a grammar allows next keep their logits,
// every other token gets -infinity before sampling.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gs {

class JsonMatcher;
class TokenFilter;

// The filter over this tokenizer's vocabulary (built once per model).
std::unique_ptr<TokenFilter> make_token_filter(const Tokenizer& tokenizer);
// row = logits with the tokens `matcher` does not allow set to -infinity.
// False when no token is allowed (the grammar is at a dead end).
bool mask_logits(const TokenFilter& filter, const JsonMatcher& matcher, const float* logits, int32_t vocab,
                 std::vector<float>& row);

}  // namespace gs
