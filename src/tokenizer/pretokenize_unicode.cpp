// Code point properties, UTF-8 decoding that keeps invalid bytes, and NFC.
#include "tokenizer/pretokenize_unicode.h"

#include <algorithm>
#include <vector>

#include "core/utf8.h"

namespace gs::unicode {
namespace {

// Hangul syllables compose and decompose by arithmetic (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount;
constexpr char32_t kSCount = kLCount * kNCount;

// One byte per code point (1.1 MB), filled once from the range table: a
// lookup is one load, which the pre-tokenizer does for every character.
std::vector<uint8_t> build_table() {
  std::vector<uint8_t> table(kInvalidBase, 0);
  for (size_t i = 0; i < data::kRangeCount; ++i) {
    const char32_t end = i + 1 < data::kRangeCount ? data::kRanges[i + 1].start : kInvalidBase;
    std::fill(table.begin() + data::kRanges[i].start, table.begin() + end, data::kRanges[i].value);
  }
  return table;
}

// Bytes allowed right after a lead byte (no overlong forms, no surrogates,
// nothing above U+10FFFF); length 0 for bytes that cannot start a character.
struct Lead {
  uint8_t length;
  uint8_t lo;
  uint8_t hi;
};
Lead lead_of(uint8_t b) {
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

uint8_t combining_rank(char32_t cp) {
  const auto* begin = data::kCombiningRanks;
  const auto* end = begin + data::kCombiningRankCount;
  const auto* it =
      std::lower_bound(begin, end, cp, [](const data::CombiningRank& r, char32_t c) { return r.cp < c; });
  return it != end && it->cp == cp ? it->rank : 0;
}

void decompose(char32_t cp, std::u32string& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out += kLBase + s / kNCount;
    out += kVBase + (s % kNCount) / kTCount;
    if (s % kTCount != 0) out += kTBase + s % kTCount;
    return;
  }
  const auto* begin = data::kDecompositions;
  const auto* end = begin + data::kDecompositionCount;
  const auto* it =
      std::lower_bound(begin, end, cp, [](const data::Decomposition& d, char32_t c) { return d.cp < c; });
  if (it == end || it->cp != cp) {
    out += cp;
    return;
  }
  out.append(data::kDecompPool + it->offset, it->length);
}

// The primary composite of (first, second), or 0 when there is none.
char32_t compose(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase && second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 && second > kTBase &&
      second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  const auto* begin = data::kCompositions;
  const auto* end = begin + data::kCompositionCount;
  const auto* it =
      std::lower_bound(begin, end, std::pair{first, second}, [](const data::Composition& c, auto key) {
        return c.first < key.first || (c.first == key.first && c.second < key.second);
      });
  return it != end && it->first == first && it->second == second ? it->composite : 0;
}

// Canonical ordering: a stable sort of each run of non-starters by class.
void reorder(std::u32string& s, std::vector<uint8_t>& ranks) {
  ranks.resize(s.size());
  for (size_t i = 0; i < s.size(); ++i) ranks[i] = combining_rank(s[i]);
  for (size_t i = 1; i < s.size(); ++i) {
    for (size_t j = i; j > 0 && ranks[j] != 0 && ranks[j - 1] > ranks[j]; --j) {
      std::swap(s[j], s[j - 1]);
      std::swap(ranks[j], ranks[j - 1]);
    }
  }
}

// Canonical composition (UAX #15): each character joins the last starter
// unless a character between them blocks it (a starter, or a mark of the
// same or higher class).
void compose_all(std::u32string& s, const std::vector<uint8_t>& ranks) {
  if (s.empty()) return;
  size_t starter = 0, kept = 1;
  int last = ranks[0] == 0 ? 0 : 256;
  for (size_t i = 1; i < s.size(); ++i) {
    const int rank = ranks[i];
    // last == 256: no starter yet, nothing to compose with.
    const char32_t composite = last < rank || last == 0 ? compose(s[starter], s[i]) : 0;
    if (composite != 0) {
      s[starter] = composite;
      continue;
    }
    if (rank == 0) starter = kept;
    last = rank;
    s[kept++] = s[i];
  }
  s.resize(kept);
}

}  // namespace

const uint8_t* property_table() {
  static const std::vector<uint8_t> table = build_table();
  return table.data();
}

uint8_t properties(char32_t cp) { return cp < kInvalidBase ? property_table()[cp] : 0; }

const char* unicode_version() { return data::kUnicodeVersion; }

char32_t decode_utf8(std::string_view s, size_t pos, size_t* len) {
  const auto b0 = static_cast<uint8_t>(s[pos]);
  *len = 1;
  if (b0 < 0x80) return b0;
  const Lead lead = lead_of(b0);
  if (lead.length == 0 || pos + lead.length > s.size()) return kInvalidBase + b0;
  char32_t cp = b0 & (0xFF >> (lead.length + 1));
  for (size_t i = 1; i < lead.length; ++i) {
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if (b < (i == 1 ? lead.lo : 0x80) || b > (i == 1 ? lead.hi : 0xBF)) return kInvalidBase + b0;
    cp = (cp << 6) | (b & 0x3F);
  }
  *len = lead.length;
  return cp;
}

void append_utf8(char32_t cp, std::string& out) {
  // Bytes that were not UTF-8 travel as kInvalidBase + byte and come back as that byte.
  if (cp >= kInvalidBase) {
    out += static_cast<char>(cp - kInvalidBase);
  } else {
    gs::append_utf8(static_cast<uint32_t>(cp), out);
  }
}

// Text splits into chunks that each start at a character NFC leaves alone
// and never joins to what precedes (a starter with quick check Yes); only
// chunks holding a character that NFC may change are decomposed, reordered
// and recomposed. Everything else is copied byte for byte.
bool to_nfc(std::string_view text, std::string& out) {
  const uint8_t* table = property_table();
  auto unstable = [table](char32_t cp) { return cp < kInvalidBase && (table[cp] & kNfcUnstableBit) != 0; };
  size_t first = 0;
  for (size_t len = 0; first < text.size(); first += len) {
    if (unstable(decode_utf8(text, first, &len))) break;
  }
  if (first == text.size()) return false;

  out.clear();
  out.reserve(text.size() + 16);
  std::u32string chunk;
  std::vector<uint8_t> ranks;
  auto normalize_chunk = [&](std::string_view raw) {
    chunk.clear();
    for (size_t pos = 0, len = 0; pos < raw.size(); pos += len) decompose(decode_utf8(raw, pos, &len), chunk);
    reorder(chunk, ranks);
    compose_all(chunk, ranks);
    for (char32_t cp : chunk) append_utf8(cp, out);
  };
  size_t copied = 0;       // text before this is in `out`
  size_t chunk_start = 0;  // byte offset of the current chunk's starter
  bool chunk_unstable = false;
  for (size_t pos = 0, len = 0; pos < text.size(); pos += len) {
    if (unstable(decode_utf8(text, pos, &len))) {
      chunk_unstable = true;
      continue;
    }
    if (chunk_unstable) {
      out.append(text.substr(copied, chunk_start - copied));
      normalize_chunk(text.substr(chunk_start, pos - chunk_start));
      copied = pos;
      chunk_unstable = false;
    }
    chunk_start = pos;
  }
  if (chunk_unstable) {
    out.append(text.substr(copied, chunk_start - copied));
    normalize_chunk(text.substr(chunk_start));
    copied = text.size();
  }
  out.append(text.substr(copied));
  return true;
}

}  // namespace gs::unicode
