#include "tokenizer/vocab.h"

#include <cmath>
#include <limits>

namespace gs::vocab {
namespace {

constexpr std::string_view kTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kScores = "tokenizer.ggml.scores";
constexpr std::string_view kTypes = "tokenizer.ggml.token_type";

bool is_integer_type(gguf::ValueType t) {
  using gguf::ValueType;
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::UINT16:
    case ValueType::INT16:
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::UINT64:
    case ValueType::INT64:
      return true;
    default:
      return false;
  }
}

// The array under `key`, or nullptr when absent; an error when it is not an
// array or not as long as the token list.
Result<const gguf::Value*> find_array(const gguf::File& file, std::string_view key, size_t expected_size) {
  const gguf::Value* v = file.find(key);
  if (!v) return static_cast<const gguf::Value*>(nullptr);
  if (v->type != gguf::ValueType::ARRAY) {
    return Error("{} is a {}, expected an array", key, gguf::value_type_name(v->type));
  }
  if (v->array_size() != expected_size) {
    return Error("{} has {} entries but {} has {}", key, v->array_size(), kTokens, expected_size);
  }
  return v;
}

Status read_scores(const gguf::File& file, Vocab& vocab) {
  const size_t n = vocab.tokens.size();
  GS_ASSIGN_OR_RETURN(const gguf::Value* v, find_array(file, kScores, n));
  vocab.scores.assign(n, 0.0f);
  if (!v) return Status::Ok();
  if (v->array_type != gguf::ValueType::FLOAT32 && v->array_type != gguf::ValueType::FLOAT64) {
    return Error("{} holds {} values, expected float32", kScores, gguf::value_type_name(v->array_type));
  }
  for (size_t i = 0; i < n; ++i) {
    // A NaN score would break the ordering of merges; it ranks below everything.
    const double s = v->numbers[i];
    vocab.scores[i] = std::isnan(s) ? -std::numeric_limits<float>::infinity() : static_cast<float>(s);
  }
  return Status::Ok();
}

Status read_types(const gguf::File& file, Vocab& vocab) {
  const size_t n = vocab.tokens.size();
  GS_ASSIGN_OR_RETURN(const gguf::Value* v, find_array(file, kTypes, n));
  vocab.types.assign(n, TokenType::kNormal);
  if (!v) return Status::Ok();
  if (!is_integer_type(v->array_type)) {
    return Error("{} holds {} values, expected int32", kTypes, gguf::value_type_name(v->array_type));
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = v->integers[i];
    if (t < 0 || t > static_cast<int64_t>(TokenType::kByte)) {
      return Error("{}[{}] = {} is not a token type (0..6)", kTypes, i, t);
    }
    vocab.types[i] = static_cast<TokenType>(t);
    if (vocab.types[i] == TokenType::kByte && !byte_of(vocab.tokens[i])) {
      return Error("byte token {} is spelled '{}', expected <0xXX>", i, vocab.tokens[i]);
    }
  }
  return Status::Ok();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<Vocab> load(const gguf::File& file) {
  const gguf::Value* tokens = file.find(kTokens);
  if (!tokens) return Error("missing metadata key '{}' (the file has no vocabulary)", kTokens);
  if (tokens->type != gguf::ValueType::ARRAY || tokens->array_type != gguf::ValueType::STRING) {
    return Error("{} must be an array of strings", kTokens);
  }
  if (tokens->strings.empty()) return Error("{} is empty", kTokens);
  if (tokens->strings.size() > static_cast<size_t>(std::numeric_limits<TokenId>::max())) {
    return Error("{} has {} entries, more than token ids can address", kTokens, tokens->strings.size());
  }
  Vocab vocab;
  vocab.tokens = tokens->strings;
  GS_RETURN_IF_ERROR(read_scores(file, vocab));
  GS_RETURN_IF_ERROR(read_types(file, vocab));
  return vocab;
}

Result<TokenId> special_id(const gguf::File& file, std::string_view key, TokenId fallback, size_t n_tokens) {
  if (!file.find(key)) return fallback >= 0 && static_cast<size_t>(fallback) < n_tokens ? fallback : -1;
  GS_ASSIGN_OR_RETURN(int64_t id, file.get_int(key));
  if (id == -1 || id == std::numeric_limits<uint32_t>::max()) return TokenId{-1};
  if (id < 0 || static_cast<uint64_t>(id) >= n_tokens) {
    return Error("{} = {} is outside the vocabulary of {} tokens", key, id, n_tokens);
  }
  return static_cast<TokenId>(id);
}

std::optional<uint8_t> byte_of(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return std::nullopt;
  const int hi = hex_digit(text[3]), lo = hex_digit(text[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

}  // namespace gs::vocab
