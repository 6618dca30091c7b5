#include "engine/constrained.h"

#include <cmath>

#include "grammar/json_grammar.h"
#include "grammar/token_filter.h"

namespace gs {

std::unique_ptr<TokenFilter> make_token_filter(const Tokenizer& tokenizer) {
  std::vector<std::string> bytes;
  std::vector<int32_t> end_tokens;
  for (TokenId id = 0; id < tokenizer.vocab_size(); ++id) {
    const TokenType type = tokenizer.type(id);
    const bool plain =
        type == TokenType::kNormal || type == TokenType::kByte || type == TokenType::kUserDefined;
    bytes.push_back(plain ? tokenizer.token_bytes(id) : std::string());
    if (tokenizer.is_end_of_generation(id)) end_tokens.push_back(id);
  }
  return std::make_unique<TokenFilter>(std::move(bytes), std::move(end_tokens));
}

bool mask_logits(const TokenFilter& filter, const JsonMatcher& matcher, const float* logits, int32_t vocab,
                 std::vector<float>& row) {
  static thread_local std::vector<uint8_t> mask;
  filter.allowed(matcher, mask);
  row.assign(logits, logits + vocab);
  bool any = false;
  for (int32_t i = 0; i < vocab; ++i) {
    any = any || (static_cast<size_t>(i) < mask.size() && mask[static_cast<size_t>(i)]);
    if (static_cast<size_t>(i) >= mask.size() || !mask[static_cast<size_t>(i)])
      row[static_cast<size_t>(i)] = -INFINITY;
  }
  return any;
}

}  // namespace gs
