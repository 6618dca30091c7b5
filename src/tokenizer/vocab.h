// The tokenizer.ggml.* vocabulary arrays, read and checked once, for every
// tokenizer model. Internal to the tokenizer module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace gs::vocab {

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;     // 0 for every token when the file has none
  std::vector<TokenType> types;  // kNormal for every token when the file has none
};

// tokens (required, non-empty), scores and token_type (optional, but as long
// as tokens when present). Byte tokens must be spelled <0xXX>.
Result<Vocab> load(const gguf::File& file);

// A special-token id such as tokenizer.ggml.bos_token_id: `fallback` when the
// key is absent, -1 (none) for -1 or UINT32_MAX (what converters write for
// "no such token"), an error when mistyped or outside [0, n_tokens).
// A fallback outside the vocabulary also reads as none.
Result<TokenId> special_id(const gguf::File& file, std::string_view key, TokenId fallback, size_t n_tokens);

// The byte of a "<0xXX>" token text (either case of hex digits).
std::optional<uint8_t> byte_of(std::string_view text);

}  // namespace gs::vocab
