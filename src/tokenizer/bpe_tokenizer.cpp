// Byte-level BPE, matching Hugging Face's tokenizers (Rust and JS) id for id:
//
//  1. Added tokens are split out of the text first, leftmost and longest
//     first: user-defined ones (type 4) always, control ones (type 3) only
//     when parsing specials. Each stretch of text between them is encoded on
//     its own, as Hugging Face does with its sections.
//  2. The stretch is normalized to NFC when the tokenizer asks for it (Qwen).
//  3. The pre-tokenizer of tokenizer.ggml.pre cuts it into pieces.
//  4. With ignore_merges (Llama 3), a piece that is itself a token is that
//     token. Otherwise the piece starts as one symbol per byte, and the
//     adjacent pair with the lowest merge rank (ties: leftmost) is merged
//     until no pair has a merge.
//
// Token texts are stored in GPT-2's byte-to-unicode alphabet ("Ġ" for a
// space); they are turned back into raw bytes once, at load, so the encoder
// works on bytes and never builds byte-level strings.
#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <queue>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenize.h"
#include "tokenizer/pretokenize_unicode.h"
#include "tokenizer/vocab.h"

namespace gs {
namespace {

// Code point standing for each byte in GPT-2's alphabet: printable Latin-1
// bytes stand for themselves, the rest for U+0100 onwards, in byte order.
const std::array<char32_t, 256>& byte_to_unicode() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      t[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

// -1 for code points that stand for no byte.
int unicode_to_byte(char32_t cp) {
  if (cp < 256) {
    const bool printable = (cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE);
    if (printable) return static_cast<int>(cp);
  }
  static const std::unordered_map<char32_t, int> shifted = [] {
    std::unordered_map<char32_t, int> m;
    for (int b = 0; b < 256; ++b) {
      if (byte_to_unicode()[static_cast<size_t>(b)] >= 256) m[byte_to_unicode()[static_cast<size_t>(b)]] = b;
    }
    return m;
  }();
  auto it = shifted.find(cp);
  return it == shifted.end() ? -1 : it->second;
}

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
using TextMap = std::unordered_map<std::string, TokenId, TextHash, std::equal_to<>>;

// (left id, right id) -> (rank, merged id), open addressing with key and
// value side by side: the merge lookup is the inner loop of BPE and mostly a
// cache miss, so one miss per probe (std::unordered_map takes three).
class MergeTable {
 public:
  struct Merge {
    int32_t rank;
    TokenId merged;
  };

  void build(const std::vector<std::pair<uint64_t, Merge>>& merges) {
    size_t capacity = 16;
    shift_ = 60;
    while (capacity < merges.size() * 2) {
      capacity *= 2;
      --shift_;
    }
    mask_ = capacity - 1;
    slots_.assign(capacity, {kEmpty, {}});
    for (const auto& [key, merge] : merges) {
      size_t slot = hash(key);
      while (slots_[slot].key != kEmpty && slots_[slot].key != key) slot = (slot + 1) & mask_;
      slots_[slot] = {key, merge};  // a pair listed again takes its later rank, as in Hugging Face
    }
  }

  const Merge* find(TokenId left, TokenId right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = pack(left, right);
    for (size_t slot = hash(key);; slot = (slot + 1) & mask_) {
      if (slots_[slot].key == key) return &slots_[slot].merge;
      if (slots_[slot].key == kEmpty) return nullptr;
    }
  }

  static uint64_t pack(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

 private:
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  // Fibonacci hashing: the top bits of the product depend on every key bit.
  size_t hash(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 60;
};

// Raw token bytes -> id, open addressing over one pool of bytes: a lookup is
// one slot (holding a hash tag) and one compare, instead of the bucket, node
// and string chasing of std::unordered_map<std::string, ...>.
class BytesTable {
 public:
  // First insertion of some bytes wins.
  void build(const std::vector<std::pair<std::string, TokenId>>& entries) {
    size_t capacity = 16;
    shift_ = 60;
    while (capacity < entries.size() * 2) {
      capacity *= 2;
      --shift_;
    }
    mask_ = capacity - 1;
    slots_.assign(capacity, Slot{0, 0, 0, -1});
    for (const auto& [bytes, id] : entries) {
      const uint64_t h = hash(bytes);
      size_t slot = static_cast<size_t>(h >> shift_);
      while (slots_[slot].id >= 0 && !equal(slots_[slot], h, bytes)) slot = (slot + 1) & mask_;
      if (slots_[slot].id >= 0) continue;
      slots_[slot] = {static_cast<uint32_t>(h), static_cast<uint32_t>(pool_.size()),
                      static_cast<uint32_t>(bytes.size()), id};
      pool_ += bytes;
    }
  }

  TokenId find(std::string_view bytes) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash(bytes);
    for (size_t slot = static_cast<size_t>(h >> shift_);; slot = (slot + 1) & mask_) {
      const Slot& s = slots_[slot];
      if (s.id < 0 || equal(s, h, bytes)) return s.id;
    }
  }

 private:
  struct Slot {
    uint32_t tag;  // low bits of the hash
    uint32_t offset;
    uint32_t length;
    TokenId id;  // -1: empty
  };

  bool equal(const Slot& s, uint64_t h, std::string_view bytes) const {
    return s.tag == static_cast<uint32_t>(h) && s.length == bytes.size() &&
           std::memcmp(pool_.data() + s.offset, bytes.data(), bytes.size()) == 0;
  }

  // Eight bytes at a time, multiply and fold; the final mix spreads every
  // input bit into the top bits the slot index uses.
  static uint64_t hash(std::string_view s) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xC2B2AE3D27D4EB4Full);
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    }
    uint64_t tail = 0;
    if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    return h * 0x9E3779B97F4A7C15ull;
  }

  std::string pool_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 60;
};

// Added tokens by first byte, longest first: at a position, the first that
// matches is the longest there.
class AddedTokens {
 public:
  void add(TokenId id, const std::string& text, bool control) {
    const auto first = static_cast<uint8_t>(text[0]);
    by_first_[first].push_back({id, text, control});
    starts_any_[first] = true;
    if (!control) starts_plain_[first] = true;
  }
  void sort() {
    for (auto& list : by_first_) {
      std::stable_sort(list.begin(), list.end(),
                       [](const Entry& a, const Entry& b) { return a.text.size() > b.text.size(); });
    }
  }
  // The longest token matching at text[pos], or nullptr.
  const std::pair<TokenId, size_t>* match(std::string_view text, size_t pos, bool parse_special,
                                          std::pair<TokenId, size_t>& slot) const {
    for (const Entry& e : by_first_[static_cast<uint8_t>(text[pos])]) {
      if ((parse_special || !e.control) && text.compare(pos, e.text.size(), e.text) == 0) {
        slot = {e.id, e.text.size()};
        return &slot;
      }
    }
    return nullptr;
  }
  // Whether any token that applies can start with `byte` (one table load
  // per byte of text, instead of walking the list).
  bool may_start(uint8_t byte, bool parse_special) const {
    return parse_special ? starts_any_[byte] : starts_plain_[byte];
  }

 private:
  struct Entry {
    TokenId id;
    std::string text;
    bool control;
  };
  std::array<std::vector<Entry>, 256> by_first_;
  std::array<bool, 256> starts_any_{};    // some token starts with this byte
  std::array<bool, 256> starts_plain_{};  // some user-defined token does
};

constexpr std::string_view kEndOfGenerationTexts[] = {
    "<|eot_id|>",    "<|eom_id|>", "<|im_end|>",      "<|end|>", "<end_of_turn>",
    "<|endoftext|>", "<|return|>", "<|end_of_text|>", "<EOT>",
};

class BpeTokenizer final : public Tokenizer {
 public:
  Status init(const gguf::File& file);

  std::vector<TokenId> encode(std::string_view text, bool add_bos) const override {
    return encode_all(text, add_bos, false);
  }
  std::string token_bytes(TokenId id) const override;
  const std::string& token_text(TokenId id) const override;

 protected:
  std::vector<TokenId> encode_parsing_special(std::string_view text, bool add_bos) const override {
    return encode_all(text, add_bos, true);
  }

 private:
  // Buffers reused across the pieces of one encode() call.
  struct Scratch {
    std::string normalized;
    std::string prefixed;
    std::vector<std::string_view> pieces;
    std::vector<TokenId> symbols;
    std::vector<int32_t> ranks;
  };

  Status read_merges(const gguf::File& file, const TextMap& text_to_id);
  Status read_options(const gguf::File& file);
  void read_special_tokens(const gguf::File& file, Status& status);
  void build_pieces();
  std::vector<TokenId> encode_all(std::string_view text, bool add_bos, bool parse_special) const;
  void encode_stretch(std::string_view text, Scratch& scratch, std::vector<TokenId>& out) const;
  void encode_piece(std::string_view piece, Scratch& scratch, std::vector<TokenId>& out) const;
  void merge_short(Scratch& scratch) const;
  void merge_long(Scratch& scratch) const;

  std::vector<std::string> tokens_;
  std::vector<std::string> pieces_;        // token_bytes() per id
  BytesTable bytes_to_id_;                 // raw bytes of every normal token
  std::array<TokenId, 256> byte_token_{};  // the one-byte token of each byte (-1: none)
  MergeTable merges_;
  AddedTokens added_;
  pretok::PreTokenizer pretokenizer_{{}};
  bool nfc_ = false;
  bool ignore_merges_ = false;
};

bool is_plain(TokenType t) { return t == TokenType::kNormal || t == TokenType::kUndefined; }

Status BpeTokenizer::init(const gguf::File& file) {
  GS_ASSIGN_OR_RETURN(vocab::Vocab v, vocab::load(file));
  tokens_ = std::move(v.tokens);
  types_ = std::move(v.types);
  TextMap text_to_id;
  text_to_id.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id)
    text_to_id.insert_or_assign(tokens_[id], static_cast<TokenId>(id));
  GS_RETURN_IF_ERROR(read_merges(file, text_to_id));
  GS_RETURN_IF_ERROR(read_options(file));
  Status status;
  read_special_tokens(file, status);
  GS_RETURN_IF_ERROR(status);
  build_pieces();
  for (int b = 0; b < 256; ++b) {
    std::string text;
    unicode::append_utf8(byte_to_unicode()[static_cast<size_t>(b)], text);
    auto it = text_to_id.find(text);
    byte_token_[static_cast<size_t>(b)] = it != text_to_id.end() ? it->second : -1;
  }
  return Status::Ok();
}

Status BpeTokenizer::read_merges(const gguf::File& file, const TextMap& text_to_id) {
  const gguf::Value* v = file.find("tokenizer.ggml.merges");
  if (!v) {
    return Error("unsupported tokenizer model 'gpt2' without merges: tokenizer.ggml.merges is missing");
  }
  if (v->type != gguf::ValueType::ARRAY || v->array_type != gguf::ValueType::STRING) {
    return Error("tokenizer.ggml.merges must be an array of strings");
  }
  std::vector<std::pair<uint64_t, MergeTable::Merge>> merges;
  merges.reserve(v->strings.size());
  for (size_t rank = 0; rank < v->strings.size(); ++rank) {
    const std::string& line = v->strings[rank];
    // Split at the first space after the first character, as llama.cpp does
    // (byte-level token texts never hold a plain space).
    const size_t sp = line.find(' ', 1);
    if (sp == std::string::npos)
      return Error("tokenizer.ggml.merges[{}] = '{}' is not 'left right'", rank, line);
    const std::string_view left = std::string_view(line).substr(0, sp),
                           right = std::string_view(line).substr(sp + 1);
    auto l = text_to_id.find(left), r = text_to_id.find(right);
    auto m = text_to_id.find(std::string(left) + std::string(right));
    if (l == text_to_id.end() || r == text_to_id.end() || m == text_to_id.end()) continue;  // can never apply
    if (rank > static_cast<size_t>(std::numeric_limits<int32_t>::max())) break;
    merges.push_back({MergeTable::pack(l->second, r->second), {static_cast<int32_t>(rank), m->second}});
  }
  merges_.build(merges);
  return Status::Ok();
}

Status BpeTokenizer::read_options(const gguf::File& file) {
  std::string pre;
  if (file.find("tokenizer.ggml.pre")) {
    GS_ASSIGN_OR_RETURN(pre, file.get_string("tokenizer.ggml.pre"));
  }
  GS_ASSIGN_OR_RETURN(pretok::Config config, pretok::config_for(pre));
  pretokenizer_ = pretok::PreTokenizer(config.steps);
  nfc_ = config.nfc;
  ignore_merges_ = config.ignore_merges;
  if (file.find("tokenizer.genstack.normalizer")) {
    GS_ASSIGN_OR_RETURN(std::string normalizer, file.get_string("tokenizer.genstack.normalizer"));
    if (normalizer != "nfc" && normalizer != "none") {
      return Error("tokenizer.genstack.normalizer = '{}': expected 'nfc' or 'none'", normalizer);
    }
    nfc_ = normalizer == "nfc";
  }
  GS_ASSIGN_OR_RETURN(ignore_merges_, file.get_bool_or("tokenizer.genstack.ignore_merges", ignore_merges_));
  // llama.cpp adds BOS by default for the families that ignore merges (Llama 3, Tekken).
  GS_ASSIGN_OR_RETURN(add_bos_, file.get_bool_or("tokenizer.ggml.add_bos_token", config.ignore_merges));
  GS_ASSIGN_OR_RETURN(add_space_prefix_, file.get_bool_or("tokenizer.ggml.add_space_prefix", false));
  return Status::Ok();
}

void BpeTokenizer::read_special_tokens(const gguf::File& file, Status& status) {
  const size_t n = tokens_.size();
  auto read = [&](std::string_view key) -> TokenId {
    auto id = vocab::special_id(file, key, -1, n);
    if (!id.ok()) {
      if (status.ok()) status = id.status();
      return -1;
    }
    return *id;
  };
  bos_ = read("tokenizer.ggml.bos_token_id");
  eos_ = read("tokenizer.ggml.eos_token_id");
  std::vector<TokenId> eog = {eos_, read("tokenizer.ggml.eot_token_id"), read("tokenizer.ggml.eom_token_id")};
  // Chat models end a turn with a control token that the metadata often
  // does not name (Llama 3's <|eot_id|>, Qwen's <|im_end|>): known texts count.
  for (size_t id = 0; id < n; ++id) {
    if (types_[id] != TokenType::kControl) continue;
    for (std::string_view t : kEndOfGenerationTexts) {
      if (tokens_[id] == t) eog.push_back(static_cast<TokenId>(id));
    }
  }
  for (TokenId id : eog) {
    if (id >= 0 &&
        std::find(end_of_generation_.begin(), end_of_generation_.end(), id) == end_of_generation_.end()) {
      end_of_generation_.push_back(id);
    }
  }
}

void BpeTokenizer::build_pieces() {
  pieces_.reserve(tokens_.size());
  std::vector<std::pair<std::string, TokenId>> plain;
  plain.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    const std::string& text = tokens_[id];
    const TokenType type = types_[id];
    std::string piece;
    if (is_plain(type)) {
      piece = byte_level_decode(text);
      plain.emplace_back(piece, static_cast<TokenId>(id));  // the first token of these bytes wins
    } else if (type == TokenType::kUserDefined) {
      piece = text;  // added tokens hold plain text, as in tokenizer.json
    } else if (type == TokenType::kByte) {
      piece = std::string(1, static_cast<char>(*vocab::byte_of(text)));
    }
    if (!text.empty() &&
        (type == TokenType::kUserDefined || type == TokenType::kControl || type == TokenType::kUnknown)) {
      added_.add(static_cast<TokenId>(id), text, type != TokenType::kUserDefined);
    }
    pieces_.push_back(std::move(piece));
  }
  bytes_to_id_.build(plain);
  added_.sort();
}

std::vector<TokenId> BpeTokenizer::encode_all(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && bos_ >= 0) out.push_back(bos_);
  Scratch scratch;
  size_t stretch = 0;
  std::pair<TokenId, size_t> slot;
  for (size_t pos = 0; pos < text.size();) {
    const auto* hit = added_.may_start(static_cast<uint8_t>(text[pos]), parse_special)
                          ? added_.match(text, pos, parse_special, slot)
                          : nullptr;
    if (!hit) {
      ++pos;
      continue;
    }
    encode_stretch(text.substr(stretch, pos - stretch), scratch, out);
    out.push_back(hit->first);
    pos += hit->second;
    stretch = pos;
  }
  encode_stretch(text.substr(stretch), scratch, out);
  return out;
}

void BpeTokenizer::encode_stretch(std::string_view text, Scratch& scratch, std::vector<TokenId>& out) const {
  if (text.empty()) return;
  if (add_space_prefix_ && text.front() != ' ') {
    scratch.prefixed.clear();
    scratch.prefixed.push_back(' ');
    scratch.prefixed.append(text.data(), text.size());
    text = scratch.prefixed;
  }
  if (nfc_ && unicode::to_nfc(text, scratch.normalized)) text = scratch.normalized;
  pretokenizer_.split(text, scratch.pieces);
  for (std::string_view piece : scratch.pieces) encode_piece(piece, scratch, out);
}

void BpeTokenizer::encode_piece(std::string_view piece, Scratch& scratch, std::vector<TokenId>& out) const {
  if (ignore_merges_ || piece.size() == 1) {
    const TokenId id = bytes_to_id_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<TokenId>& symbols = scratch.symbols;
  symbols.clear();
  for (char c : piece) {
    const TokenId id = byte_token_[static_cast<uint8_t>(c)];
    if (id >= 0)
      symbols.push_back(id);  // a byte with no token is dropped, as Hugging Face does without <unk>
  }
  if (symbols.size() <= 64) {
    merge_short(scratch);
  } else {
    merge_long(scratch);
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
}

// Short pieces (almost all): ranks of adjacent pairs kept in an array and the
// lowest found by a scan; only the two pairs next to a merge are looked up again.
void BpeTokenizer::merge_short(Scratch& scratch) const {
  std::vector<TokenId>& s = scratch.symbols;
  std::vector<int32_t>& ranks = scratch.ranks;
  constexpr int32_t kNone = std::numeric_limits<int32_t>::max();
  auto rank_of = [&](size_t i) {
    const MergeTable::Merge* m = merges_.find(s[i], s[i + 1]);
    return m ? m->rank : kNone;
  };
  if (s.size() < 2) return;
  ranks.resize(s.size() - 1);
  for (size_t i = 0; i + 1 < s.size(); ++i) ranks[i] = rank_of(i);
  while (true) {
    const auto best = std::min_element(ranks.begin(), ranks.end());  // first of equal ranks: leftmost
    if (*best == kNone) return;
    const auto i = static_cast<size_t>(best - ranks.begin());
    s[i] = merges_.find(s[i], s[i + 1])->merged;
    s.erase(s.begin() + static_cast<ptrdiff_t>(i) + 1);
    ranks.erase(ranks.begin() + static_cast<ptrdiff_t>(i));
    if (ranks.empty()) return;
    if (i > 0) ranks[i - 1] = rank_of(i - 1);
    if (i < ranks.size()) ranks[i] = rank_of(i);
  }
}

// Long pieces: a linked list of symbols and a queue of candidate merges by
// (rank, position), so a piece of n bytes costs O(n log n). Entries go stale
// when a neighbour merged since; their recorded ids then no longer match.
void BpeTokenizer::merge_long(Scratch& scratch) const {
  std::vector<TokenId>& s = scratch.symbols;
  const auto n = static_cast<int32_t>(s.size());
  std::vector<int32_t> prev(static_cast<size_t>(n)), next(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    prev[static_cast<size_t>(i)] = i - 1;
    next[static_cast<size_t>(i)] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int32_t rank, left, right;
    TokenId left_id, right_id;
    bool operator>(const Candidate& o) const { return rank > o.rank || (rank == o.rank && left > o.left); }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto push = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const TokenId a = s[static_cast<size_t>(left)], b = s[static_cast<size_t>(right)];
    if (const MergeTable::Merge* m = merges_.find(a, b)) queue.push({m->rank, left, right, a, b});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i, i + 1);
  std::vector<bool> dead(static_cast<size_t>(n), false);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const auto l = static_cast<size_t>(c.left), r = static_cast<size_t>(c.right);
    if (dead[l] || dead[r] || next[l] != c.right || s[l] != c.left_id || s[r] != c.right_id) continue;
    s[l] = merges_.find(c.left_id, c.right_id)->merged;
    dead[r] = true;
    next[l] = next[r];
    if (next[r] >= 0) prev[static_cast<size_t>(next[r])] = c.left;
    push(prev[l], c.left);
    push(c.left, next[l]);
  }
  size_t kept = 0;
  for (int32_t i = 0; i >= 0; i = next[static_cast<size_t>(i)]) s[kept++] = s[static_cast<size_t>(i)];
  s.resize(kept);
}

std::string BpeTokenizer::token_bytes(TokenId id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) return "";
  return pieces_[static_cast<size_t>(id)];
}

const std::string& BpeTokenizer::token_text(TokenId id) const {
  static const std::string kNone;
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size()) return kNone;
  return tokens_[static_cast<size_t>(id)];
}

}  // namespace

std::string byte_level_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) unicode::append_utf8(byte_to_unicode()[static_cast<uint8_t>(c)], out);
  return out;
}

std::string byte_level_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0, len = 0; pos < text.size(); pos += len) {
    const char32_t cp = unicode::decode_utf8(text, pos, &len);
    const int byte = unicode_to_byte(cp);
    if (byte >= 0) {
      out += static_cast<char>(byte);
    } else {
      out.append(text.substr(pos, len));  // not in the alphabet: kept as written
    }
  }
  return out;
}

Result<std::unique_ptr<Tokenizer>> make_bpe_tokenizer(const gguf::File& file) {
  auto tokenizer = std::make_unique<BpeTokenizer>();
  GS_RETURN_IF_ERROR(tokenizer->init(file));
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

}  // namespace gs
