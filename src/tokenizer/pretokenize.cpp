// Hand-written matchers for the pre-tokenizer regexes. Each one answers "how
// long is the match starting here" with the regex's own semantics: the first
// alternative that matches wins, quantifiers are greedy, and `\s+(?!\S)`
// backs off one character so that a space stays with the word after it.
// White space is Unicode White_Space, as in Oniguruma (Hugging Face's Rust
// tokenizer) and in the JS tokenizer's translated \s.
#include "tokenizer/pretokenize.h"

#include <algorithm>
#include <array>
#include <span>

#include "tokenizer/pretokenize_unicode.h"

namespace gs::pretok {
namespace {

using unicode::GeneralCategory;

// Character classes the patterns test.
constexpr uint8_t kLetter = 1;   // \p{L}
constexpr uint8_t kNumber = 2;   // \p{N}
constexpr uint8_t kSpace = 4;    // \s (White_Space)
constexpr uint8_t kPunct = 8;    // \p{P}
constexpr uint8_t kSymbol = 16;  // \p{S}
constexpr uint8_t kMark = 32;    // \p{M}
constexpr uint8_t kUpper = 64;   // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (Tekken, GPT-4o)
constexpr uint8_t kLower = 128;  // [\p{Ll}\p{Lm}\p{Lo}\p{M}]

constexpr std::array<uint8_t, 32> kCategoryClass = [] {
  using namespace unicode;
  std::array<uint8_t, 32> c{};
  c[kLu] = c[kLt] = kLetter | kUpper;
  c[kLl] = kLetter | kLower;
  c[kLm] = c[kLo] = kLetter | kUpper | kLower;
  c[kMn] = c[kMc] = c[kMe] = kMark | kUpper | kLower;
  c[kNd] = c[kNl] = c[kNo] = kNumber;
  for (GeneralCategory g : {kPc, kPd, kPs, kPe, kPi, kPf, kPo}) c[g] = kPunct;
  for (GeneralCategory g : {kSm, kSc, kSk, kSo}) c[g] = kSymbol;
  return c;
}();

struct Char {
  char32_t cp;
  uint8_t cls;
  uint8_t len;  // bytes
};

struct CodeRange {
  char32_t lo, hi;
};

// DeepSeek LLM's letter class (its tokenizer.json's second Split).
constexpr CodeRange kDeepseekLatin[] = {
    {0x0041, 0x005A},   {0x0061, 0x007A},   {0x00B5, 0x00B5},   {0x00C0, 0x00D6},   {0x00D8, 0x00F6},
    {0x00F8, 0x01BA},   {0x01BC, 0x01BF},   {0x01C4, 0x0293},   {0x0295, 0x02AF},   {0x0370, 0x0373},
    {0x0376, 0x0377},   {0x037B, 0x037D},   {0x037F, 0x037F},   {0x0386, 0x0386},   {0x0388, 0x038A},
    {0x038C, 0x038C},   {0x038E, 0x03A1},   {0x03A3, 0x03F5},   {0x03F7, 0x0481},   {0x048A, 0x052F},
    {0x0531, 0x0556},   {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},   {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},   {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},   {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B},   {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},   {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},   {0x2102, 0x2102},   {0x2107, 0x2107},
    {0x210A, 0x2113},   {0x2115, 0x2115},   {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},
    {0x2128, 0x2128},   {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},   {0x2C7E, 0x2CE4},
    {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},   {0xA680, 0xA69B},   {0xA722, 0xA76F},
    {0xA771, 0xA787},   {0xA78B, 0xA78E},   {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},
    {0xFF21, 0xFF3A},   {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
// DeepSeek LLM's punctuation class: ASCII punctuation and letters (:-~),
// full-width forms, curly quotes, ideographic space and marks.
constexpr CodeRange kDeepseekPunct[] = {{0x0021, 0x002F}, {0x003A, 0x007E}, {0x2018, 0x201F},
                                        {0x3000, 0x3002}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}};
// DeepSeek's CJK class: 一-龥, ࠀ-一 and 가-퟿.
constexpr CodeRange kDeepseekCjk[] = {{0x0800, 0x9FA5}, {0xAC00, 0xD7FF}};

// DeepSeek V3's CJK and kana class: 一-龥, ぀-ゟ and ゠-ヿ.
constexpr CodeRange kCjkKana[] = {{0x3040, 0x30FF}, {0x4E00, 0x9FA5}};

bool in_ranges(char32_t cp, std::span<const CodeRange> ranges) {
  for (const CodeRange& r : ranges) {
    if (cp >= r.lo && cp <= r.hi) return true;
  }
  return false;
}

uint8_t class_of(char32_t cp, const uint8_t* table) {
  if (cp >= unicode::kInvalidBase) return 0;  // an invalid byte: "other"
  const uint8_t p = table[cp];
  return kCategoryClass[p & unicode::kCategoryMask] | ((p & unicode::kWhiteSpaceBit) ? kSpace : 0);
}

// Most text is ASCII: its classes come from a 128-entry table.
const std::array<uint8_t, 128>& ascii_classes() {
  static const std::array<uint8_t, 128> classes = [] {
    std::array<uint8_t, 128> c{};
    for (char32_t cp = 0; cp < 128; ++cp) c[cp] = class_of(cp, unicode::property_table());
    return c;
  }();
  return classes;
}

// The text of one piece being split: `end` is where the subject string of
// this step ends, for `(?!\S)` and `$`.
class Subject {
 public:
  Subject(std::string_view s, size_t end) : s_(s), end_(end), table_(unicode::property_table()) {}

  size_t end() const { return end_; }
  bool at_end(size_t pos) const { return pos >= end_; }
  uint8_t byte(size_t pos) const { return static_cast<uint8_t>(s_[pos]); }

  Char at(size_t pos) const {
    const uint8_t b = byte(pos);
    if (b < 0x80) return {b, ascii_classes()[b], 1};
    size_t len = 0;
    const char32_t cp = unicode::decode_utf8(s_.substr(0, end_), pos, &len);
    return {cp, class_of(cp, table_), static_cast<uint8_t>(len)};
  }

  // End of the run of characters from pos for which keep(char) holds.
  template <typename Keep>
  size_t run(size_t pos, Keep keep) const {
    while (pos < end_) {
      const Char c = at(pos);
      if (!keep(c)) break;
      pos += c.len;
    }
    return pos;
  }
  size_t run_class(size_t pos, uint8_t mask) const {
    return run(pos, [mask](const Char& c) { return (c.cls & mask) != 0; });
  }
  // Run of "other" characters: [^\s\p{L}\p{N}].
  size_t run_other(size_t pos) const {
    return run(pos, [](const Char& c) { return (c.cls & (kLetter | kNumber | kSpace)) == 0; });
  }

 private:
  std::string_view s_;
  size_t end_;
  const uint8_t* table_;
};

bool is_newline(char32_t cp) { return cp == '\r' || cp == '\n'; }
bool is_other(uint8_t cls) { return (cls & (kLetter | kNumber | kSpace)) == 0; }

// 's|'t|'re|'ve|'m|'ll|'d, ASCII case-insensitive when `fold` (the JS
// tokenizer folds only ASCII letters inside (?i:...)).
size_t contraction(const Subject& t, size_t pos, bool fold) {
  if (t.byte(pos) != '\'' || t.at_end(pos + 1)) return 0;
  auto lower = [&](size_t p) {
    const uint8_t b = t.byte(p);
    return static_cast<char>(fold && b >= 'A' && b <= 'Z' ? b + 32 : b);
  };
  const char a = lower(pos + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (t.at_end(pos + 2)) return 0;
  const char b = lower(pos + 2);
  return (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l') ? 3 : 0;
}

// \s+(?!\S)|\s+ at a white-space character: the whole run at the end of the
// subject; otherwise the run less its last character, which stays to lead
// the next piece; a single character alone.
// With `newlines`, \s*[\r\n]+ comes first: up to the run's last \r or \n.
size_t whitespace(const Subject& t, size_t pos, bool newlines) {
  size_t q = pos, last = pos, newline_end = 0;
  while (!t.at_end(q)) {
    const Char c = t.at(q);
    if (!(c.cls & kSpace)) break;
    last = q;
    q += c.len;
    if (is_newline(c.cp)) newline_end = q;
  }
  if (newlines && newline_end != 0) return newline_end - pos;
  if (t.at_end(q) || last == pos) return q - pos;
  return last - pos;
}

// \p{N}{1,max}
size_t run_numbers(const Subject& t, size_t pos, size_t max) {
  size_t q = pos;
  for (size_t n = 0; n < max && !t.at_end(q); ++n) {
    const Char d = t.at(q);
    if (!(d.cls & kNumber)) break;
    q += d.len;
  }
  return q;
}

size_t match_gpt2(const Subject& t, size_t pos) {
  if (size_t n = contraction(t, pos, false)) return n;
  Char c = t.at(pos);
  size_t start = pos;
  if (c.cp == ' ' && !t.at_end(pos + 1)) {
    const Char next = t.at(pos + 1);
    if (!(next.cls & kSpace)) {
      c = next;
      start = pos + 1;
    }
  }
  if (c.cls & kSpace) return whitespace(t, pos, false);
  const uint8_t kind = c.cls & (kLetter | kNumber);  // 0: other
  return t.run(start, [kind](const Char& x) { return (x.cls & (kLetter | kNumber | kSpace)) == kind; }) - pos;
}

size_t match_llama3(const Subject& t, size_t pos, size_t max_digits) {
  if (size_t n = contraction(t, pos, true)) return n;
  const Char c = t.at(pos);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c.cls & kLetter) return t.run_class(pos, kLetter) - pos;
  if (!(c.cls & kNumber) && !is_newline(c.cp) && !t.at_end(pos + c.len) &&
      (t.at(pos + c.len).cls & kLetter)) {
    return t.run_class(pos + c.len, kLetter) - pos;
  }
  // \p{N}{1,max}
  if (c.cls & kNumber) return run_numbers(t, pos, max_digits) - pos;
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t start = std::string_view::npos;
  if (is_other(c.cls)) {
    start = pos;
  } else if (c.cp == ' ' && !t.at_end(pos + 1) && is_other(t.at(pos + 1).cls)) {
    start = pos + 1;
  }
  if (start != std::string_view::npos) {
    size_t q = t.run_other(start);
    while (!t.at_end(q) && (t.byte(q) == '\r' || t.byte(q) == '\n')) ++q;
    return q - pos;
  }
  return whitespace(t, pos, true);
}

constexpr size_t kNoMatch = std::string_view::npos;

// Tekken's and GPT-4o's words, from `start` (after any prefix), optionally
// followed by a contraction:
//   first  U*L+   (U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], L = [\p{Ll}\p{Lm}\p{Lo}\p{M}])
//   second U+L*
// U* is greedy; when no L follows the U run, it gives back characters until
// one that is also in L (Lm, Lo or a mark), which then is the L+ part.
size_t cased_word(const Subject& t, size_t start, bool second, bool contraction_suffix) {
  if (t.at_end(start)) return kNoMatch;
  const size_t upper_end = t.run_class(start, kUpper);
  size_t end;
  if (second) {
    if (upper_end == start) return kNoMatch;
    end = t.run_class(upper_end, kLower);
  } else if (!t.at_end(upper_end) && (t.at(upper_end).cls & kLower)) {
    end = t.run_class(upper_end, kLower);
  } else {
    size_t last_lower = kNoMatch, q = start;
    for (Char c; q < upper_end; q += c.len) {
      c = t.at(q);
      if (c.cls & kLower) last_lower = q;
    }
    if (last_lower == kNoMatch) return kNoMatch;
    end = last_lower + t.at(last_lower).len;
  }
  return contraction_suffix && !t.at_end(end) ? end + contraction(t, end, true) : end;
}

// [^\r\n\p{L}\p{N}]?U*L+C?|[^\r\n\p{L}\p{N}]?U+L*C?: each alternative with
// the optional prefix first, then without it (a mark can be either).
size_t cased_words(const Subject& t, size_t pos, bool contraction_suffix) {
  const Char c = t.at(pos);
  const bool prefix = !(c.cls & (kLetter | kNumber)) && !is_newline(c.cp);
  for (bool second : {false, true}) {
    if (prefix) {
      const size_t end = cased_word(t, pos + c.len, second, contraction_suffix);
      if (end != kNoMatch) return end - pos;
    }
    const size_t end = cased_word(t, pos, second, contraction_suffix);
    if (end != kNoMatch) return end - pos;
  }
  return 0;
}

// Tekken (max_digits 1, no contractions) and GPT-4o (3, contractions after
// words): cased words, numbers, ` ?[^\s\p{L}\p{N}]+[\r\n/]*`, white space.
size_t match_cased(const Subject& t, size_t pos, size_t max_digits, bool contraction_suffix) {
  if (size_t n = cased_words(t, pos, contraction_suffix)) return n;
  const Char c = t.at(pos);
  if (c.cls & kNumber) return run_numbers(t, pos, max_digits) - pos;
  size_t start = kNoMatch;
  if (is_other(c.cls)) {
    start = pos;
  } else if (c.cp == ' ' && !t.at_end(pos + 1) && is_other(t.at(pos + 1).cls)) {
    start = pos + 1;
  }
  if (start != kNoMatch) {
    size_t q = t.run_other(start);
    while (!t.at_end(q) && (t.byte(q) == '\r' || t.byte(q) == '\n' || t.byte(q) == '/')) ++q;
    return q - pos;
  }
  return whitespace(t, pos, true);
}

// DeepSeek V3's third split:
//   [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
//    ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// Numbers match nothing here (the first split isolated them): gaps.
size_t match_deepseek_v3(const Subject& t, size_t pos) {
  auto ascii_letter = [](uint8_t b) { return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z'); };
  const uint8_t b = t.byte(pos);
  const bool ascii_punct = (b >= 0x21 && b <= 0x2F) || (b >= 0x3A && b <= 0x40) || (b >= 0x5B && b <= 0x60) ||
                           (b >= 0x7B && b <= 0x7E);
  if (ascii_punct && !t.at_end(pos + 1) && ascii_letter(t.byte(pos + 1))) {
    size_t q = pos + 1;
    while (!t.at_end(q) && ascii_letter(t.byte(q))) ++q;
    return q - pos;
  }
  const Char c = t.at(pos);
  constexpr uint8_t kWord = kLetter | kMark;
  if (!(c.cls & (kLetter | kPunct | kSymbol)) && !is_newline(c.cp) && !t.at_end(pos + c.len) &&
      (t.at(pos + c.len).cls & kWord)) {
    return t.run_class(pos + c.len, kWord) - pos;
  }
  if (c.cls & kWord) return t.run_class(pos, kWord) - pos;
  size_t start = kNoMatch;
  if (c.cls & (kPunct | kSymbol)) {
    start = pos;
  } else if (c.cp == ' ' && !t.at_end(pos + 1) && (t.at(pos + 1).cls & (kPunct | kSymbol))) {
    start = pos + 1;
  }
  if (start != kNoMatch) {
    size_t q = t.run_class(start, kPunct | kSymbol);
    while (!t.at_end(q) && (t.byte(q) == '\r' || t.byte(q) == '\n')) ++q;
    return q - pos;
  }
  return (c.cls & kSpace) ? whitespace(t, pos, true) : 0;
}

// \s?[class]+ where class is tested by `in`.
template <typename In>
size_t space_then_run(const Subject& t, size_t pos, In in) {
  const Char c = t.at(pos);
  if ((c.cls & kSpace) && !t.at_end(pos + c.len) && in(t.at(pos + c.len)))
    return t.run(pos + c.len, in) - pos;
  return in(c) ? t.run(pos, in) - pos : 0;
}

size_t match(Step step, const Subject& t, size_t pos) {
  switch (step) {
    case Step::kGpt2:
      return match_gpt2(t, pos);
    case Step::kLlama3:
      return match_llama3(t, pos, 3);
    case Step::kQwen2:
      return match_llama3(t, pos, 1);
    case Step::kDigit: {
      const Char c = t.at(pos);
      return (c.cls & kNumber) ? c.len : 0;
    }
    case Step::kNumberRun:
      return t.run_class(pos, kNumber) - pos;
    case Step::kNewline:
      return t.byte(pos) == '\r' || t.byte(pos) == '\n' ? 1 : 0;
    case Step::kCjkRun:
      return t.run(pos, [](const Char& c) { return in_ranges(c.cp, kDeepseekCjk); }) - pos;
    case Step::kLatinRun:
      return space_then_run(t, pos, [](const Char& c) { return in_ranges(c.cp, kDeepseekLatin); });
    case Step::kPunctRun:
      return space_then_run(t, pos, [](const Char& c) { return in_ranges(c.cp, kDeepseekPunct); });
    case Step::kLetterRun:
      return space_then_run(t, pos, [](const Char& c) { return (c.cls & kLetter) != 0; });
    case Step::kPunctuation:
      return space_then_run(t, pos, [](const Char& c) { return (c.cls & kPunct) != 0; });
    case Step::kTekken:
      return match_cased(t, pos, 1, false);
    case Step::kGpt4o:
      return match_cased(t, pos, 3, true);
    case Step::kDeepseekV3:
      return match_deepseek_v3(t, pos);
    case Step::kNumbers3:
      return run_numbers(t, pos, 3) - pos;
    case Step::kCjkKanaRun:
      return t.run(pos, [](const Char& c) { return in_ranges(c.cp, kCjkKana); }) - pos;
    case Step::kTrailingSpace:
      return 0;  // split_trailing_space() handles it
  }
  return 0;
}

struct Range {
  size_t begin, end;
};

// \s+$ where $ is the end of the subject or a position before "\n": the
// first white-space run that reaches either. Done as one scan, because
// trying every start position would be quadratic on long runs.
void split_trailing_space(const Subject& t, Range r, std::vector<Range>& out) {
  size_t pos = r.begin;
  while (pos < r.end) {
    const Char c = t.at(pos);
    if (!(c.cls & kSpace)) {
      pos += c.len;
      continue;
    }
    size_t q = pos, newline = 0;
    while (q < r.end) {
      const Char x = t.at(q);
      if (!(x.cls & kSpace)) break;
      if (x.cp == '\n' && q > pos) newline = q;  // the last "\n" after the first character
      q += x.len;
    }
    const size_t match_end = q == r.end ? q : newline;
    if (match_end != 0) {
      if (pos > r.begin) out.push_back({r.begin, pos});
      out.push_back({pos, match_end});
      split_trailing_space(t, {match_end, r.end}, out);
      return;
    }
    pos = q;
  }
  out.push_back(r);
}

// One Isolated split of the subject `r`: matches and the gaps between them.
void split_step(Step step, std::string_view text, Range r, std::vector<Range>& out) {
  const Subject t(text, r.end);
  if (step == Step::kTrailingSpace) {
    if (r.begin < r.end) split_trailing_space(t, r, out);
    return;
  }
  size_t gap = r.begin;
  for (size_t pos = r.begin; pos < r.end;) {
    const size_t n = match(step, t, pos);
    if (n == 0) {
      pos += t.at(pos).len;
      continue;
    }
    if (gap < pos) out.push_back({gap, pos});
    out.push_back({pos, pos + n});
    pos += n;
    gap = pos;
  }
  if (gap < r.end) out.push_back({gap, r.end});
}

struct Family {
  const char* names;  // space-separated tokenizer.ggml.pre values
  Config config;
};

const std::vector<Family>& families() {
  static const std::vector<Family> kFamilies = {
      {"gpt2 default mpt olmo jais", {{Step::kGpt2}, false, false}},
      {"llama-bpe llama3 dbrx smaug-bpe chatglm-bpe", {{Step::kLlama3}, false, true}},
      {"qwen2 stablelm2 hunyuan grok-2 deepseek-r1-qwen", {{Step::kQwen2}, true, false}},
      {"smollm starcoder refact command-r codeshell exaone minerva",
       {{Step::kDigit, Step::kGpt2}, false, false}},
      {"deepseek-llm",
       {{Step::kNewline, Step::kLatinRun, Step::kPunctRun, Step::kTrailingSpace, Step::kCjkRun,
         Step::kNumberRun},
        false,
        false}},
      {"tekken", {{Step::kTekken}, false, true}},
      {"gpt-4o", {{Step::kGpt4o}, false, false}},
      {"deepseek-v3", {{Step::kNumbers3, Step::kCjkKanaRun, Step::kDeepseekV3}, false, false}},
      {"deepseek-coder",
       {{Step::kNewline, Step::kLetterRun, Step::kPunctuation, Step::kCjkRun, Step::kDigit}, false, false}},
  };
  return kFamilies;
}

bool name_in(std::string_view names, std::string_view name) {
  while (!names.empty()) {
    const size_t sp = names.find(' ');
    if (names.substr(0, sp) == name) return true;
    if (sp == std::string_view::npos) break;
    names.remove_prefix(sp + 1);
  }
  return false;
}

}  // namespace

Result<Config> config_for(std::string_view pre) {
  if (pre.empty()) pre = "default";
  for (const Family& f : families()) {
    if (name_in(f.names, pre)) return f.config;
  }
  std::string known;
  for (const std::string& n : known_names()) known += (known.empty() ? "" : ", ") + n;
  return Error("unsupported pre-tokenizer tokenizer.ggml.pre = '{}' (supported: {})", pre, known);
}

std::vector<std::string> known_names() {
  std::vector<std::string> names;
  for (const Family& f : families()) {
    std::string_view all = f.names;
    while (!all.empty()) {
      const size_t sp = all.find(' ');
      names.emplace_back(all.substr(0, sp));
      if (sp == std::string_view::npos) break;
      all.remove_prefix(sp + 1);
    }
  }
  return names;
}

std::string name_for(const std::vector<Step>& steps) {
  for (const Family& f : families()) {
    if (f.config.steps == steps)
      return std::string(std::string_view(f.names).substr(0, std::string_view(f.names).find(' ')));
  }
  return "";
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
  out.clear();
  if (text.empty()) return;
  std::vector<Range> pieces = {{0, text.size()}}, next;
  for (Step step : steps_) {
    next.clear();
    for (const Range& r : pieces) split_step(step, text, r, next);
    pieces.swap(next);
  }
  out.reserve(pieces.size());
  for (const Range& r : pieces) out.push_back(text.substr(r.begin, r.end - r.begin));
}

}  // namespace gs::pretok
