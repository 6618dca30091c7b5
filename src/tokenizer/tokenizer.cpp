// The tokenizer factory, what all tokenizers share, and the streaming
// detokenizer's UTF-8 handling.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"

namespace gs {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Bytes allowed right after a lead byte (Unicode's table of well-formed
// sequences: no overlong forms, no surrogates, nothing above U+10FFFF).
struct LeadInfo {
  int length;  // 0: not a lead byte
  uint8_t second_lo;
  uint8_t second_hi;
};

LeadInfo lead_info(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

enum class Scan { kChar, kInvalid, kIncomplete };

// Classifies the bytes at the start of `s` (non-empty): a whole character of
// *len bytes, an ill-formed prefix of *len bytes (one U+FFFD, the "maximal
// subpart" rule), or the start of a character cut off by the end of `s`.
Scan scan_char(std::string_view s, size_t* len) {
  const LeadInfo info = lead_info(static_cast<uint8_t>(s[0]));
  *len = 1;
  if (info.length == 0) return Scan::kInvalid;
  for (int i = 1; i < info.length; ++i) {
    if (static_cast<size_t>(i) >= s.size()) return Scan::kIncomplete;
    const auto b = static_cast<uint8_t>(s[static_cast<size_t>(i)]);
    const uint8_t lo = i == 1 ? info.second_lo : 0x80, hi = i == 1 ? info.second_hi : 0xBF;
    if (b < lo || b > hi) return Scan::kInvalid;
    *len = static_cast<size_t>(i) + 1;
  }
  return Scan::kChar;
}

// Appends the valid UTF-8 of `in` to `out`, ill-formed bytes as U+FFFD.
// Returns how many bytes were used: all of them, except a character cut off
// at the end when `at_end` is false (its bytes wait for the next token).
size_t append_valid_utf8(std::string_view in, bool at_end, std::string& out) {
  size_t pos = 0;
  while (pos < in.size()) {
    size_t len = 0;
    const Scan scan = scan_char(in.substr(pos), &len);
    if (scan == Scan::kIncomplete) {
      if (!at_end) return pos;
      out += kReplacement;  // the cut-off character is one maximal subpart
      return in.size();
    }
    if (scan == Scan::kChar) {
      out.append(in.substr(pos, len));
    } else {
      out += kReplacement;
    }
    pos += len;
  }
  return pos;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const gguf::File& file) {
  GS_ASSIGN_OR_RETURN(std::string model, file.get_string("tokenizer.ggml.model"));
  if (model == "llama") return make_spm_tokenizer(file);
  if (model == "gpt2") return make_bpe_tokenizer(file);
  return Error("unsupported tokenizer model '{}'", model);
}

bool Tokenizer::is_end_of_generation(TokenId id) const {
  return id >= 0 &&
         std::find(end_of_generation_.begin(), end_of_generation_.end(), id) != end_of_generation_.end();
}

// Generic for any tokenizer: the control tokens are looked up by their text
// on every call, which is cheap next to encoding (vocabularies have a few
// hundred at most). The byte-level BPE tokenizer overrides this with its own
// matcher, which also honours user-defined tokens in the same pass.
std::vector<TokenId> Tokenizer::encode_parsing_special(std::string_view text, bool add_bos) const {
  std::vector<TokenId> specials;
  for (TokenId id = 0; id < vocab_size(); ++id) {
    if (type(id) == TokenType::kControl && !token_text(id).empty()) specials.push_back(id);
  }
  std::vector<TokenId> out;
  if (add_bos && bos_ >= 0) out.push_back(bos_);
  size_t gap = 0;
  for (size_t pos = 0; pos < text.size();) {
    TokenId best = -1;
    for (TokenId id : specials) {
      const std::string& t = token_text(id);
      if (text.substr(pos, t.size()) == t && (best < 0 || t.size() > token_text(best).size())) best = id;
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    if (gap < pos) {
      const std::vector<TokenId> ids = encode(text.substr(gap, pos - gap), false);
      out.insert(out.end(), ids.begin(), ids.end());
    }
    out.push_back(best);
    pos += token_text(best).size();
    gap = pos;
  }
  if (gap < text.size()) {
    const std::vector<TokenId> ids = encode(text.substr(gap), false);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return out;
}

std::string Tokenizer::decode(std::span<const TokenId> ids) const {
  std::string out;
  for (TokenId id : ids) out += token_bytes(id);
  return out;
}

std::string StreamingDetokenizer::push(TokenId id) {
  std::string piece = tokenizer_.token_bytes(id);
  if (first_ && !piece.empty()) {
    if (strip_space_prefix_ && piece.front() == ' ') piece.erase(0, 1);
    first_ = false;
  }
  pending_ += piece;
  std::string out;
  const size_t used = append_valid_utf8(pending_, false, out);
  pending_.erase(0, used);
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out;
  append_valid_utf8(pending_, true, out);
  pending_.clear();
  return out;
}

}  // namespace gs
