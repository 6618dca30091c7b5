// The Unicode facts the byte-level BPE pre-tokenizers need: general category
// and White_Space of every code point, UTF-8 decoding that keeps invalid
// bytes, and NFC normalization (Qwen's tokenizer.json normalizes to NFC).
// Tables are generated from Node's Unicode data (see
// tools/tokenizer-parity/gen_unicode_tables.mjs), the same data Hugging
// Face's JS tokenizer matches its regexes against. Internal to the module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gs::unicode {

enum GeneralCategory : uint8_t {
  kCn,
  kLu,
  kLl,
  kLt,
  kLm,
  kLo,
  kMn,
  kMc,
  kMe,
  kNd,
  kNl,
  kNo,
  kPc,
  kPd,
  kPs,
  kPe,
  kPi,
  kPf,
  kPo,
  kSm,
  kSc,
  kSk,
  kSo,
  kZs,
  kZl,
  kZp,
  kCc,
  kCf,
  kCs,
  kCo,
};

// An invalid UTF-8 byte b decodes to kInvalidBase + b: outside Unicode, so no
// table knows it (category Cn), and encoding it back gives the byte again.
constexpr char32_t kInvalidBase = 0x110000;

// Per code point: general category (bits 0-4), White_Space (bit 5) and
// "NFC may change text holding this" (bit 6).
constexpr uint8_t kCategoryMask = 0x1F;
constexpr uint8_t kWhiteSpaceBit = 0x20;
constexpr uint8_t kNfcUnstableBit = 0x40;
uint8_t properties(char32_t cp);
// properties() of every code point below kInvalidBase, for hot loops.
const uint8_t* property_table();
inline GeneralCategory category(char32_t cp) {
  return static_cast<GeneralCategory>(properties(cp) & kCategoryMask);
}
inline bool is_white_space(char32_t cp) { return (properties(cp) & kWhiteSpaceBit) != 0; }
// The Unicode version the tables were generated from.
const char* unicode_version();

// Decodes one code point at s[pos] (pos < s.size()); *len gets its byte
// length. Ill-formed bytes (overlong, surrogate, truncated, stray) come out
// one at a time as kInvalidBase + byte.
char32_t decode_utf8(std::string_view s, size_t pos, size_t* len);
// Appends the UTF-8 of cp (or the raw byte of an invalid-byte code point).
void append_utf8(char32_t cp, std::string& out);

// NFC (Unicode canonical composition) of `text`; invalid bytes pass through.
// Returns false, leaving `out` untouched, when text holds no character that
// NFC could change (the common case, checked without allocating); otherwise
// true with the NFC in `out` (which may equal `text`).
bool to_nfc(std::string_view text, std::string& out);

namespace data {
struct RangeStart {
  char32_t start;
  uint8_t value;
};
struct Decomposition {
  char32_t cp;
  uint16_t offset;
  uint8_t length;
};
struct CombiningRank {
  char32_t cp;
  uint8_t rank;
};
struct Composition {
  char32_t first;
  char32_t second;
  char32_t composite;
};
extern const char* const kUnicodeVersion;
extern const RangeStart kRanges[];
extern const size_t kRangeCount;
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionCount;
extern const char32_t kDecompPool[];
extern const CombiningRank kCombiningRanks[];
extern const size_t kCombiningRankCount;
extern const Composition kCompositions[];
extern const size_t kCompositionCount;
}  // namespace data

}  // namespace gs::unicode
