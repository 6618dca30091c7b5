// Text <-> token ids, built from a GGUF file's tokenizer.ggml.* metadata:
// `tokenizer.ggml.model = llama` (SentencePiece-style BPE with scores and byte
// fallback) and `gpt2` (byte-level BPE with merges, as Hugging Face's
// tokenizers: Llama 3, Qwen, SmolLM, DeepSeek, ...).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"

namespace gs {

using TokenId = int32_t;

enum class TokenType : int32_t {  // tokenizer.ggml.token_type values
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Fails with a clear message for an unknown tokenizer.ggml.model or
  // inconsistent vocabulary metadata.
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const gguf::File& file);

  // Special-token text such as "<s>" in `text` is plain text, never parsed as
  // a special token. Prepends BOS when add_bos.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_bos) const = 0;
  // With parse_special, the text of control tokens (such as "<|im_start|>")
  // in `text` becomes those tokens: only for text that came from a chat
  // template, never for user content. Without it, the same as above.
  std::vector<TokenId> encode(std::string_view text, bool add_bos, bool parse_special) const {
    return parse_special ? encode_parsing_special(text, add_bos) : encode(text, add_bos);
  }
  // The raw bytes of one token (byte tokens give their byte; control tokens
  // give ""), with SentencePiece's U+2581 turned back into a space.
  virtual std::string token_bytes(TokenId id) const = 0;
  // The vocabulary string as stored (for inspection / debugging).
  virtual const std::string& token_text(TokenId id) const = 0;
  // token_bytes() of every id, concatenated: the raw bytes, which may end in
  // (or hold) an incomplete UTF-8 sequence. Nothing is stripped.
  std::string decode(std::span<const TokenId> ids) const;

  int32_t vocab_size() const { return static_cast<int32_t>(types_.size()); }
  TokenId bos() const { return bos_; }
  TokenId eos() const { return eos_; }
  bool add_bos_default() const { return add_bos_; }
  // Whether encode() puts a space before the text (SentencePiece's dummy prefix).
  bool add_space_prefix() const { return add_space_prefix_; }
  TokenType type(TokenId id) const { return types_[static_cast<size_t>(id)]; }
  // End of generation: EOS, EOT/EOM if the vocabulary has them.
  bool is_end_of_generation(TokenId id) const;

 protected:
  // encode() with control tokens split out of the text first (leftmost,
  // longest first) and the text between them encoded as by encode(x, false).
  virtual std::vector<TokenId> encode_parsing_special(std::string_view text, bool add_bos) const;

  std::vector<TokenType> types_;
  std::vector<TokenId> end_of_generation_;
  TokenId bos_ = -1;
  TokenId eos_ = -1;
  bool add_bos_ = true;
  bool add_space_prefix_ = false;
};

// Turns a stream of tokens into text that never splits a UTF-8 character:
// bytes of an incomplete character are held until the rest arrives, and bytes
// that can never form a character come out as U+FFFD.
class StreamingDetokenizer {
 public:
  // For tokens that continue a text already in context (generation after a
  // prompt): every piece is kept as is, so a first token "▁a" gives " a",
  // exactly as llama.cpp prints a continuation.
  explicit StreamingDetokenizer(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  // `starts_text`: the tokens are a whole text (BOS or nothing before them),
  // so the space the encoder prefixed (add_space_prefix) is dropped from the
  // first non-empty piece: streaming encode(x) gives x back.
  StreamingDetokenizer(const Tokenizer& tokenizer, bool starts_text)
      : tokenizer_(tokenizer), strip_space_prefix_(starts_text && tokenizer.add_space_prefix()) {}
  // Text that became complete with this token (possibly empty).
  std::string push(TokenId id);
  // Whatever is still held (an incomplete character at the end of the stream
  // comes out as U+FFFD replacement characters).
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;
  // True until a token with a non-empty piece has been pushed: that piece is
  // where the encoder's space prefix sits, so it is the only one that
  // strip_space_prefix_ touches (BOS and other control tokens give "" and
  // leave first_ set).
  bool first_ = true;
  bool strip_space_prefix_ = false;
};

}  // namespace gs
