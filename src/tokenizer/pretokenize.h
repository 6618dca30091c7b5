// Pre-tokenization for byte-level BPE: the text is cut into pieces (words,
// number groups, punctuation runs, whitespace) that BPE then encodes one at
// a time, exactly where Hugging Face's regex pre-tokenizers cut for each
// tokenizer.ggml.pre value. Hand-written matchers replace the regexes: each
// reproduces one pattern's leftmost-first alternation and backtracking.
// Internal to the tokenizer module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gs::pretok {

// One Split (behaviour Isolated) of a Hugging Face pre-tokenizer sequence:
// matches become pieces and so does the text between them.
enum class Step : uint8_t {
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  //  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3,
  kQwen2,          // as kLlama3 with \p{N} instead of \p{N}{1,3}
  kDigit,          // \p{N}: every number character alone
  kNumberRun,      // \p{N}+
  kNewline,        // [\r\n]
  kCjkRun,         // [一-龥ࠀ-一가-퟿]+ (DeepSeek)
  kLatinRun,       // \s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+ (DeepSeek LLM's letter class)
  kPunctRun,       // \s?[!-/:-~！-／：-～‘-‟　-。]+ (DeepSeek LLM)
  kTrailingSpace,  // \s+$
  kLetterRun,      // \s?\p{L}+ (DeepSeek Coder)
  kPunctuation,    // \s?\p{P}+ (DeepSeek Coder)
  // [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|
  // [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}|
  //  ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kTekken,
  kGpt4o,       // as kTekken with (?i:'s|'t|'re|'ve|'m|'ll|'d)? after words and \p{N}{1,3}
  kNumbers3,    // \p{N}{1,3} (DeepSeek V3)
  kCjkKanaRun,  // [一-龥぀-ゟ゠-ヿ]+ (DeepSeek V3)
  kDeepseekV3,  // DeepSeek V3's main split (see pretokenize.cpp)
};

struct Config {
  std::vector<Step> steps;
  bool nfc = false;            // normalize each text fragment to NFC first (Qwen2)
  bool ignore_merges = false;  // a piece that is itself a token skips BPE (Llama 3)
};

// The pre-tokenizer of a tokenizer.ggml.pre name (llama.cpp's names), with
// Hugging Face's normalizer and ignore_merges defaults for that family. An
// empty name or "default" is GPT-2's. Unknown names are an error.
Result<Config> config_for(std::string_view pre);
// The names config_for() knows, for messages and docs.
std::vector<std::string> known_names();
// The tokenizer.ggml.pre name whose steps are exactly `steps` (the family's
// main name: "gpt2", "llama-bpe", "qwen2", ...), or "" when none is.
std::string name_for(const std::vector<Step>& steps);

// Splits UTF-8 text (invalid bytes allowed: each is a piece character of no
// letter/number/space class) into pieces that cover it exactly, in order.
// `out` is cleared first; the views point into `text`.
class PreTokenizer {
 public:
  explicit PreTokenizer(std::vector<Step> steps) : steps_(std::move(steps)) {}
  void split(std::string_view text, std::vector<std::string_view>& out) const;

 private:
  std::vector<Step> steps_;
};

}  // namespace gs::pretok
