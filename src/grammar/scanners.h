// Byte scanners for the values on top of a thread's stack (scanners.cpp),
// used by the matcher's stack machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grammar/grammar_internal.h"

namespace gs::grammar {

inline bool is_ws(uint8_t b) { return b == ' ' || b == '\n' || b == '\r' || b == '\t'; }

// Advances the UTF-8 state by one byte; false for a byte that cannot come
// here. `done`: the byte ends a character.
bool utf8_step(uint8_t& st, uint8_t b, bool& done);

enum class Scan { kReject, kMore, kClosed };
// One byte of string content, or the closing quote. `node` is null for free
// object keys (any string).
Scan scan_string(const Program& p, const Node* node, StringScan& s, uint8_t b);

enum class Num {
  kReject,
  kTaken,
  kEnded,  // the byte is not part of the number, which may end before it
};
Num scan_number(const Node& n, NumberScan& s, uint8_t b);
bool number_can_end(const Node& n, const NumberScan& s);

bool literal_can_end(const Node& n, const LiteralScan& s);

// Narrows a range of sorted strings sharing their first `pos` bytes to those
// whose next byte is `b`. False if none.
bool narrow(const std::vector<std::string>& strings, uint32_t& lo, uint32_t& hi, uint32_t pos, uint8_t b);

}  // namespace gs::grammar
