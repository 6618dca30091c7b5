// SentencePiece-style tokenization, reproducing llama.cpp's llm_tokenizer_spm:
//
//  1. User-defined tokens (type 4) found in the text are split out as whole
//     tokens; control and unknown token text ("<s>") stays plain text.
//  2. Each remaining text fragment that starts the input or follows such a
//     token gets a leading space (add_space_prefix); spaces become U+2581.
//  3. The fragment starts as one symbol per UTF-8 character; the adjacent pair
//     whose concatenation is a vocabulary piece with the highest score is
//     merged (ties: leftmost), repeatedly, until no pair is in the vocabulary.
//  4. Each final symbol is its piece's id, or when it is not a piece (a lone
//     character outside the vocabulary) its bytes as <0xXX> byte tokens.
//
// llama.cpp also keeps a reverse map from merged text to the pair it came
// from, to split symbols that are not in the vocabulary. A merged symbol is in
// the vocabulary by construction, so only unmerged characters ever miss, and
// those were never merged: the map is never consulted and is left out here.
#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <array>
#include <functional>
#include <queue>
#include <string_view>
#include <unordered_map>

#include "tokenizer/vocab.h"

namespace gs {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// Lets the piece map be searched with a string_view into the text, without
// building a std::string per lookup.
struct PieceHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
using PieceMap = std::unordered_map<std::string, TokenId, PieceHash, std::equal_to<>>;

// Length of the UTF-8 sequence a lead byte announces. Like llama.cpp, a stray
// continuation byte counts as a character of its own and 0xF8..0xFF as four,
// so invalid input still splits into symbols (and later into byte tokens).
size_t utf8_char_len(uint8_t lead) {
  static constexpr std::array<uint8_t, 16> kLen = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;  // byte offset into the escaped fragment
  uint32_t len;    // 0 once merged into its left neighbour
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  uint32_t size;  // bytes of the merged piece; stale entries no longer match
};

// Highest score on top; among equal scores the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};
using BigramQueue = std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder>;

struct Fragment {
  std::string_view text;  // empty for a token fragment
  TokenId token = -1;
};

class SpmTokenizer final : public Tokenizer {
 public:
  Status init(const gguf::File& file);

  std::vector<TokenId> encode(std::string_view text, bool add_bos) const override;
  std::string token_bytes(TokenId id) const override;
  const std::string& token_text(TokenId id) const override;

 private:
  Status read_special_tokens(const gguf::File& file);
  void build_tables();
  std::vector<Fragment> split_user_defined(std::string_view text) const;
  void encode_fragment(std::string_view text, bool space_prefix, std::vector<TokenId>& out) const;
  void merge(const std::string& text, std::vector<Symbol>& symbols) const;
  void emit(std::string_view piece, std::vector<TokenId>& out) const;

  std::vector<std::string> tokens_;
  std::vector<float> scores_;
  std::vector<std::string> pieces_;        // token_bytes() per id, computed once
  PieceMap piece_to_id_;                   // every token text; a later duplicate wins, as in llama.cpp
  std::array<TokenId, 256> byte_token_{};  // byte fallback per byte value (-1: none)
  std::vector<TokenId> user_defined_;      // longest text first
  TokenId unk_ = -1;
};

Status SpmTokenizer::init(const gguf::File& file) {
  GS_ASSIGN_OR_RETURN(vocab::Vocab v, vocab::load(file));
  tokens_ = std::move(v.tokens);
  scores_ = std::move(v.scores);
  types_ = std::move(v.types);
  GS_RETURN_IF_ERROR(read_special_tokens(file));
  GS_ASSIGN_OR_RETURN(add_bos_, file.get_bool_or("tokenizer.ggml.add_bos_token", true));
  GS_ASSIGN_OR_RETURN(add_space_prefix_, file.get_bool_or("tokenizer.ggml.add_space_prefix", true));
  build_tables();
  return Status::Ok();
}

// Defaults are llama.cpp's for SentencePiece vocabularies: <unk> 0, <s> 1, </s> 2.
Status SpmTokenizer::read_special_tokens(const gguf::File& file) {
  const size_t n = tokens_.size();
  GS_ASSIGN_OR_RETURN(bos_, vocab::special_id(file, "tokenizer.ggml.bos_token_id", 1, n));
  GS_ASSIGN_OR_RETURN(eos_, vocab::special_id(file, "tokenizer.ggml.eos_token_id", 2, n));
  GS_ASSIGN_OR_RETURN(unk_, vocab::special_id(file, "tokenizer.ggml.unknown_token_id", 0, n));
  GS_ASSIGN_OR_RETURN(TokenId eot, vocab::special_id(file, "tokenizer.ggml.eot_token_id", -1, n));
  GS_ASSIGN_OR_RETURN(TokenId eom, vocab::special_id(file, "tokenizer.ggml.eom_token_id", -1, n));
  for (TokenId id : {eos_, eot, eom}) {
    if (id >= 0 &&
        std::find(end_of_generation_.begin(), end_of_generation_.end(), id) == end_of_generation_.end()) {
      end_of_generation_.push_back(id);
    }
  }
  return Status::Ok();
}

std::string piece_of(const std::string& text, TokenType type) {
  switch (type) {
    case TokenType::kNormal: {
      std::string out;
      out.reserve(text.size());
      for (size_t i = 0; i < text.size();) {
        if (text.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
          out += ' ';
          i += kSpaceMark.size();
        } else {
          out += text[i++];
        }
      }
      return out;
    }
    case TokenType::kUserDefined:
      return text;  // llama.cpp prints these verbatim, U+2581 included
    case TokenType::kByte:
      return std::string(1, static_cast<char>(*vocab::byte_of(text)));
    default:
      return "";  // control, unknown, unused: no text
  }
}

void SpmTokenizer::build_tables() {
  const auto n = static_cast<TokenId>(tokens_.size());
  piece_to_id_.reserve(tokens_.size());
  pieces_.reserve(tokens_.size());
  for (TokenId id = 0; id < n; ++id) {
    const std::string& text = tokens_[static_cast<size_t>(id)];
    piece_to_id_.insert_or_assign(text, id);
    pieces_.push_back(piece_of(text, type(id)));
    if (type(id) == TokenType::kUserDefined && !text.empty()) user_defined_.push_back(id);
  }
  // The byte fallback looks the spelled-out byte up among all tokens (so the
  // last duplicate wins), then the raw one-byte string, then <unk>.
  for (int b = 0; b < 256; ++b) {
    const std::string spelled = fmt::format("<0x{:02X}>", b);
    auto it = piece_to_id_.find(spelled);
    if (it == piece_to_id_.end()) it = piece_to_id_.find(std::string(1, static_cast<char>(b)));
    byte_token_[static_cast<size_t>(b)] = it != piece_to_id_.end() ? it->second : unk_;
  }
  // Longer user-defined tokens are split out first, so that one containing
  // another wins (llama.cpp orders them the same way).
  std::stable_sort(user_defined_.begin(), user_defined_.end(), [this](TokenId a, TokenId b) {
    return tokens_[static_cast<size_t>(a)].size() > tokens_[static_cast<size_t>(b)].size();
  });
}

std::vector<Fragment> SpmTokenizer::split_user_defined(std::string_view text) const {
  std::vector<Fragment> fragments = {{text, -1}};
  for (TokenId id : user_defined_) {
    const std::string& needle = tokens_[static_cast<size_t>(id)];
    std::vector<Fragment> next;
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t at = rest.find(needle); at != std::string_view::npos; at = rest.find(needle)) {
        if (at > 0) next.push_back({rest.substr(0, at), -1});
        next.push_back({{}, id});
        rest.remove_prefix(at + needle.size());
      }
      if (!rest.empty()) next.push_back({rest, -1});
    }
    fragments = std::move(next);
  }
  return fragments;
}

std::vector<TokenId> SpmTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<TokenId> out;
  if (add_bos && bos_ >= 0) out.push_back(bos_);
  // Empty text gives no fragment, hence no space prefix: [] or [BOS].
  if (text.empty()) return out;
  std::vector<Fragment> fragments =
      user_defined_.empty() ? std::vector<Fragment>{{text, -1}} : split_user_defined(text);
  // Like llama.cpp, the text after a user-defined token gets the space prefix
  // again, as at the start of the input.
  bool after_special = true;
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
    } else {
      encode_fragment(f.text, add_space_prefix_ && after_special, out);
      after_special = false;
    }
  }
  return out;
}

void SpmTokenizer::encode_fragment(std::string_view raw, bool space_prefix, std::vector<TokenId>& out) const {
  std::string text;
  text.reserve(raw.size() + 3 * (space_prefix ? 1 : 0) + 8);
  if (space_prefix) text += kSpaceMark;
  for (char c : raw) {
    if (c == ' ') {
      text += kSpaceMark;
    } else {
      text += c;
    }
  }

  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t offset = 0; offset < text.size();) {
    const size_t len = std::min(text.size() - offset, utf8_char_len(static_cast<uint8_t>(text[offset])));
    const auto index = static_cast<int32_t>(symbols.size());
    const bool last = offset + len == text.size();
    symbols.push_back(
        {index - 1, last ? -1 : index + 1, static_cast<uint32_t>(offset), static_cast<uint32_t>(len)});
    offset += len;
  }
  merge(text, symbols);
  for (int32_t i = symbols.empty() ? -1 : 0; i != -1; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& s = symbols[static_cast<size_t>(i)];
    emit(std::string_view(text).substr(s.start, s.len), out);
  }
}

// The score-ordered merge loop. Queue entries go stale when one of their
// symbols has been merged elsewhere since; a symbol only grows (or drops to
// length 0), so comparing the summed length with the entry's size spots them.
void SpmTokenizer::merge(const std::string& text, std::vector<Symbol>& symbols) const {
  BigramQueue queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const Symbol& r = symbols[static_cast<size_t>(right)];
    const std::string_view piece = std::string_view(text).substr(l.start, l.len + r.len);
    auto it = piece_to_id_.find(piece);
    if (it == piece_to_id_.end()) return;
    queue.push({left, right, scores_[static_cast<size_t>(it->second)], static_cast<uint32_t>(piece.size())});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[static_cast<size_t>(b.left)];
    Symbol& r = symbols[static_cast<size_t>(b.right)];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.size) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
}

void SpmTokenizer::emit(std::string_view piece, std::vector<TokenId>& out) const {
  auto it = piece_to_id_.find(piece);
  if (it != piece_to_id_.end()) {
    out.push_back(it->second);
    return;
  }
  for (char c : piece) {
    const TokenId id = byte_token_[static_cast<uint8_t>(c)];
    if (id >= 0) out.push_back(id);  // no byte token and no <unk>: nothing to say
  }
}

std::string SpmTokenizer::token_bytes(TokenId id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) return "";
  return pieces_[static_cast<size_t>(id)];
}

const std::string& SpmTokenizer::token_text(TokenId id) const {
  static const std::string kNone;
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size()) return kNone;
  return tokens_[static_cast<size_t>(id)];
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_spm_tokenizer(const gguf::File& file) {
  auto tokenizer = std::make_unique<SpmTokenizer>();
  GS_RETURN_IF_ERROR(tokenizer->init(file));
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

}  // namespace gs
