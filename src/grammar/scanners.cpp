// Scanners for the values that sit on top of a thread's stack: strings
// (escapes, UTF-8, length, pattern), numbers (syntax, digit limits, bounds)
// and fixed literals.
#include <array>
#include <cmath>

#include "grammar/scanners.h"

namespace gs::grammar {
namespace {

// NumberScan::part.
enum NumPart : uint8_t { kSign, kInt, kDot, kFrac, kExpMark, kExpSign, kExp };

// StringScan::esc: after '\\'; reading hex digit k of the first \u unit
// (kEscHex + k); after a high surrogate, waiting for "\u" and the low unit.
enum Esc : uint8_t { kEscNone, kEscStart, kEscHex, kEscWantBackslash = kEscHex + 4, kEscWantU, kEscLowHex };

bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }

int hex_value(uint8_t b) {
  if (b >= '0' && b <= '9') return b - '0';
  if (b >= 'a' && b <= 'f') return b - 'a' + 10;
  if (b >= 'A' && b <= 'F') return b - 'A' + 10;
  return -1;
}

double pow10(int e) {
  static const auto table = [] {
    std::array<double, 64> t{};
    for (int i = 0; i < 64; ++i) t[static_cast<size_t>(i)] = std::pow(10.0, i - 32);
    return t;
  }();
  return table[static_cast<size_t>(e + 32)];
}

}  // namespace

// Advances the UTF-8 state by one byte; false for a byte that cannot come
// here. `done`: the byte ends a character.
bool utf8_step(uint8_t& st, uint8_t b, bool& done) {
  done = false;
  switch (st) {
    case kU8None:
      if (b < 0x80) {
        done = true;
      } else if (b >= 0xC2 && b <= 0xDF) {
        st = kU8Need1;
      } else if (b == 0xE0) {
        st = kU8Need2E0;
      } else if (b == 0xED) {
        st = kU8Need2ED;
      } else if (b >= 0xE1 && b <= 0xEF) {
        st = kU8Need2;
      } else if (b == 0xF0) {
        st = kU8Need3F0;
      } else if (b >= 0xF1 && b <= 0xF3) {
        st = kU8Need3;
      } else if (b == 0xF4) {
        st = kU8Need3F4;
      } else {
        return false;
      }
      return true;
    case kU8Need1:
      if (b < 0x80 || b > 0xBF) return false;
      st = kU8None;
      done = true;
      return true;
    case kU8Need2:
    case kU8Need2E0:
    case kU8Need2ED: {
      const uint8_t lo = st == kU8Need2E0 ? 0xA0 : 0x80;
      const uint8_t hi = st == kU8Need2ED ? 0x9F : 0xBF;
      if (b < lo || b > hi) return false;
      st = kU8Need1;
      return true;
    }
    default: {  // three continuation bytes due
      const uint8_t lo = st == kU8Need3F0 ? 0x90 : 0x80;
      const uint8_t hi = st == kU8Need3F4 ? 0x8F : 0xBF;
      if (b < lo || b > hi) return false;
      st = kU8Need2;
      return true;
    }
  }
}

// One byte of string content, or the closing quote. `node` is null for free
// object keys (any string).
Scan scan_string(const Program& p, const Node* node, StringScan& s, uint8_t b) {
  const uint32_t max = node ? node->max_length : kUnbounded;
  if (s.esc != kEscNone) {
    const int h = hex_value(b);
    if (s.esc == kEscStart) {
      if (b == 'u') {
        s.esc = kEscHex;
        s.unit = 0;
        return Scan::kMore;
      }
      if (b != '"' && b != '\\' && b != '/' && b != 'b' && b != 'f' && b != 'n' && b != 'r' && b != 't') {
        return Scan::kReject;
      }
      s.esc = kEscNone;
      ++s.count;
      return Scan::kMore;
    }
    if (s.esc >= kEscHex && s.esc < kEscHex + 4) {
      if (h < 0) return Scan::kReject;
      s.unit = static_cast<uint16_t>(s.unit * 16 + h);
      const int k = s.esc - kEscHex;
      if (k == 1 && s.unit >= 0xDC && s.unit <= 0xDF) return Scan::kReject;  // a low surrogate alone
      if (k < 3) {
        ++s.esc;
      } else if (s.unit >= 0xD800 && s.unit <= 0xDBFF) {
        s.esc = kEscWantBackslash;
      } else {
        s.esc = kEscNone;
        ++s.count;
      }
      return Scan::kMore;
    }
    if (s.esc == kEscWantBackslash) {
      if (b != '\\') return Scan::kReject;
      s.esc = kEscWantU;
      return Scan::kMore;
    }
    if (s.esc == kEscWantU) {
      if (b != 'u') return Scan::kReject;
      s.esc = kEscLowHex;
      return Scan::kMore;
    }
    const int k = s.esc - kEscLowHex;  // the low surrogate: DC00-DFFF
    if (h < 0 || (k == 0 && h != 0xD) || (k == 1 && h < 0xC)) return Scan::kReject;
    if (k < 3) {
      ++s.esc;
    } else {
      s.esc = kEscNone;
      ++s.count;
    }
    return Scan::kMore;
  }

  const Dfa* dfa = node && node->dfa >= 0 ? &p.dfas[static_cast<size_t>(node->dfa)] : nullptr;
  if (s.utf8 == kU8None) {
    if (b == '"') {
      if (node && s.count < node->min_length) return Scan::kReject;
      if (dfa && !dfa->accepting[static_cast<size_t>(s.dfa_state)]) return Scan::kReject;
      return Scan::kClosed;
    }
    if (s.count >= max) return Scan::kReject;  // a new character would be one too many
    if (b == '\\') {
      if (dfa) return Scan::kReject;  // patterns see the raw characters: no escapes
      s.esc = kEscStart;
      return Scan::kMore;
    }
    if (b < 0x20) return Scan::kReject;
  }
  bool done = false;
  if (!utf8_step(s.utf8, b, done)) return Scan::kReject;
  if (done) ++s.count;
  if (dfa) {
    s.dfa_state = dfa->step(s.dfa_state, b);
    if (s.dfa_state == Dfa::kDead) return Scan::kReject;
    const auto st = static_cast<size_t>(s.dfa_state);
    const uint64_t begun = s.count + (s.utf8 != kU8None ? 1 : 0);
    if (begun + dfa->min_chars[st] > max) return Scan::kReject;
    if (dfa->max_chars[st] != Dfa::kUnbounded && begun + dfa->max_chars[st] < node->min_length)
      return Scan::kReject;
  }
  return Scan::kMore;
}

namespace {

// Whether some value in [lo, hi] (ends open or closed) meets the node's bounds.
bool meets_bounds(const Node& n, double lo, bool lo_closed, double hi, bool hi_closed) {
  if (n.has_min) {
    if (n.minimum > lo) {
      lo = n.minimum;
      lo_closed = !n.min_exclusive;
    } else if (n.minimum == lo) {
      lo_closed = lo_closed && !n.min_exclusive;
    }
  }
  if (n.has_max) {
    if (n.maximum < hi) {
      hi = n.maximum;
      hi_closed = !n.max_exclusive;
    } else if (n.maximum == hi) {
      hi_closed = hi_closed && !n.max_exclusive;
    }
  }
  return lo < hi || (lo == hi && lo_closed && hi_closed);
}

// Whether the magnitudes [lo, hi) (or [lo, hi] when hi_closed), taken with
// the number's sign, meet the bounds.
bool magnitudes_meet(const Node& n, const NumberScan& s, double lo, double hi, bool hi_closed) {
  if (s.negative) return meets_bounds(n, -hi, hi_closed, -lo, true);
  return meets_bounds(n, lo, true, hi, hi_closed);
}

// The magnitude so far as the double a JSON parser gives for its digits.
double magnitude(const NumberScan& s) {
  const auto m = static_cast<double>(s.mantissa);  // exact below 2^53
  return s.scale >= 0 ? m * pow10(s.scale) : m / pow10(-s.scale);
}

// [lo, lo + width) with a width too small to show at lo's size still holds lo's neighbours.
double above(double lo, double width) {
  const double hi = lo + width;
  return hi > lo ? hi : std::nextafter(lo, HUGE_VAL);
}

// Whether some completion of the number so far meets the node's bounds
// (fractions are allowed only where the node allows non-integers, and
// exponents never with bounds, so the reachable values are intervals).
bool number_feasible(const Node& n, const NumberScan& s) {
  const bool fraction = n.types & kNumber;
  const double v = magnitude(s);
  switch (s.part) {
    case kSign:
      return magnitudes_meet(n, s, 0, pow10(kMaxIntDigits), false);
    case kInt: {
      if (s.leading_zero)
        return fraction ? magnitudes_meet(n, s, 0, 1, false) : magnitudes_meet(n, s, 0, 0, true);
      for (int k = 0; k + s.int_digits <= kMaxIntDigits; ++k) {
        // k more digits: [v * 10^k, (v + 1) * 10^k), whole numbers only
        // without a fraction; bounds are whole numbers then, so the open
        // interval is exact.
        const double lo = v * pow10(k);
        if (magnitudes_meet(n, s, lo, above(lo, pow10(k)), false)) return true;
      }
      return false;
    }
    case kDot:
      return magnitudes_meet(n, s, v, above(v, 1), false);
    case kFrac:
      return magnitudes_meet(n, s, v, above(v, pow10(-s.frac_digits)), false);
    default:
      return true;
  }
}

// Appends a digit of the integer part (fraction = false) or of the fraction.
void add_digit(NumberScan& s, int d, bool fraction) {
  if (s.mantissa_digits < 19) {
    s.mantissa = s.mantissa * 10 + static_cast<uint64_t>(d);
    if (s.mantissa > 0) ++s.mantissa_digits;  // leading zeros take no room
    if (fraction) --s.scale;
  } else if (!fraction) {
    ++s.scale;
  }
}

}  // namespace

bool number_can_end(const Node& n, const NumberScan& s) {
  const bool whole = (s.part == kInt && s.int_digits > 0) || s.part == kFrac || s.part == kExp;
  if (!whole || !n.has_bounds()) return whole;
  const double x = s.negative ? -magnitude(s) : magnitude(s);
  return meets_bounds(n, x, true, x, true);
}

Num scan_number(const Node& n, NumberScan& s, uint8_t b) {
  const bool fraction = n.types & kNumber;
  const bool exponent = fraction && !n.has_bounds();
  const int d = b - '0';
  switch (s.part) {
    case kSign:
      if (is_digit(b)) {
        s.part = kInt;
        s.int_digits = 1;
        add_digit(s, d, false);
        s.leading_zero = d == 0;
      } else if (b == '-' && !s.negative) {
        s.negative = 1;
      } else {
        return Num::kReject;
      }
      break;
    case kInt:
      if (is_digit(b)) {
        if (s.leading_zero || s.int_digits >= kMaxIntDigits) return Num::kReject;
        ++s.int_digits;
        add_digit(s, d, false);
      } else if (b == '.' && fraction) {
        s.part = kDot;
      } else if ((b == 'e' || b == 'E') && exponent) {
        s.part = kExpMark;
      } else {
        return number_can_end(n, s) ? Num::kEnded : Num::kReject;
      }
      break;
    case kDot:
      if (!is_digit(b)) return Num::kReject;
      s.part = kFrac;
      s.frac_digits = 1;
      add_digit(s, d, true);
      break;
    case kFrac:
      if (is_digit(b)) {
        if (s.frac_digits >= kMaxFracDigits) return Num::kReject;
        ++s.frac_digits;
        add_digit(s, d, true);
      } else if ((b == 'e' || b == 'E') && exponent) {
        s.part = kExpMark;
      } else {
        return number_can_end(n, s) ? Num::kEnded : Num::kReject;
      }
      break;
    case kExpMark:
    case kExpSign:
      if (is_digit(b)) {
        s.part = kExp;
        s.exp_digits = 1;
      } else if ((b == '+' || b == '-') && s.part == kExpMark) {
        s.part = kExpSign;
      } else {
        return Num::kReject;
      }
      break;
    default:  // kExp
      if (!is_digit(b)) return Num::kEnded;
      if (s.exp_digits >= kMaxExpDigits) return Num::kReject;
      ++s.exp_digits;
      break;
  }
  if (n.has_bounds() && !number_feasible(n, s)) return Num::kReject;
  return Num::kTaken;
}

bool literal_can_end(const Node& n, const LiteralScan& s) {
  return s.lo < s.hi && n.literals[s.lo].size() == s.pos;
}

// Narrows a range of sorted strings sharing their first `pos` bytes to those
// whose next byte is `b`. False if none.
bool narrow(const std::vector<std::string>& strings, uint32_t& lo, uint32_t& hi, uint32_t pos, uint8_t b) {
  // Within the range, strings of length pos come first, then by byte at pos.
  auto key = [&](uint32_t i) {
    const std::string& s = strings[i];
    return s.size() > pos ? static_cast<int>(static_cast<uint8_t>(s[pos])) : -1;
  };
  uint32_t a = lo, z = hi;
  while (a < z) {  // first with key >= b
    const uint32_t mid = a + (z - a) / 2;
    if (key(mid) < b) {
      a = mid + 1;
    } else {
      z = mid;
    }
  }
  uint32_t e = a;
  z = hi;
  while (e < z) {  // first with key > b
    const uint32_t mid = e + (z - e) / 2;
    if (key(mid) <= b) {
      e = mid + 1;
    } else {
      z = mid;
    }
  }
  if (a == e) return false;
  lo = a;
  hi = e;
  return true;
}

}  // namespace gs::grammar
