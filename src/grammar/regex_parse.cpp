// Pattern text -> Ast, for the ECMAScript subset described in regex.h.
#include <algorithm>
#include <string>

#include "grammar/regex_internal.h"
#include "core/utf8.h"

namespace gs::grammar::re {

CharSet normalized(CharSet set) {
  std::sort(set.begin(), set.end());
  CharSet merged;
  for (auto [lo, hi] : set) {
    if (!merged.empty() && lo <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, hi);
    } else {
      merged.emplace_back(lo, hi);
    }
  }
  // Surrogates are not characters: UTF-8 cannot hold them.
  CharSet out;
  for (auto [lo, hi] : merged) {
    if (hi < 0xD800 || lo > 0xDFFF) {
      out.emplace_back(lo, hi);
      continue;
    }
    if (lo < 0xD800) out.emplace_back(lo, 0xD7FF);
    if (hi > 0xDFFF) out.emplace_back(0xE000, hi);
  }
  return out;
}

CharSet complement(const CharSet& set) {
  CharSet in = normalized(set);
  CharSet out;
  uint32_t next = 0;
  for (auto [lo, hi] : in) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
  return normalized(std::move(out));
}

namespace {

constexpr uint32_t kMaxRepeat = 1000;
constexpr size_t kMaxAstNodes = 20000;

CharSet digits() { return {{'0', '9'}}; }
CharSet word() { return normalized({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}); }
CharSet space() {
  return normalized({{'\t', '\r'},
                     {' ', ' '},
                     {0xA0, 0xA0},
                     {0x1680, 0x1680},
                     {0x2000, 0x200A},
                     {0x2028, 0x2029},
                     {0x202F, 0x202F},
                     {0x205F, 0x205F},
                     {0x3000, 0x3000},
                     {0xFEFF, 0xFEFF}});
}
CharSet any_char() { return normalized({{0, kMaxCodePoint}}); }
CharSet dot() { return complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}); }

int hex_digit(uint32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

struct ClassAtom {
  CharSet set;
  bool single = false;  // one literal character: may be a range end
  uint32_t cp = 0;
};

class Parser {
 public:
  explicit Parser(std::vector<uint32_t> cps) : cps_(std::move(cps)) {}

  Result<Ast> run() {
    GS_ASSIGN_OR_RETURN(int root, top());
    ast_.root = root;
    return std::move(ast_);
  }

 private:
  bool at_end() const { return i_ >= cps_.size(); }
  uint32_t peek(size_t ahead = 0) const { return i_ + ahead < cps_.size() ? cps_[i_ + ahead] : 0xFFFFFFFF; }
  bool eat(uint32_t c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  Status error(std::string_view what) const { return Error("{} at character {}", what, i_); }

  Result<int> add(AstNode n) {
    if (ast_.nodes.size() >= kMaxAstNodes) return error("pattern too large");
    ast_.nodes.push_back(std::move(n));
    return static_cast<int>(ast_.nodes.size() - 1);
  }
  Result<int> set_node(CharSet set) {
    AstNode n;
    n.kind = AstNode::kSet;
    n.set = std::move(set);
    return add(std::move(n));
  }
  Result<int> list_node(AstNode::Kind kind, std::vector<int> children) {
    if (children.size() == 1) return children[0];
    AstNode n;
    n.kind = children.empty() ? AstNode::kEmpty : kind;
    n.children = std::move(children);
    return add(std::move(n));
  }
  Result<int> any_star() {
    GS_ASSIGN_OR_RETURN(int any, set_node(any_char()));
    AstNode n;
    n.kind = AstNode::kRepeat;
    n.children = {any};
    n.min = 0;
    n.max = kRepeatUnbounded;
    return add(std::move(n));
  }

  // Top level: alternatives, each anchored by its own ^ and $ or else
  // free to match anywhere (JSON Schema patterns search, they do not match).
  Result<int> top() {
    std::vector<int> alts;
    for (;;) {
      const bool anchored_start = eat('^');
      bool anchored_end = false;
      GS_ASSIGN_OR_RETURN(int seq, sequence(true, &anchored_end));
      if (!anchored_start) {
        GS_ASSIGN_OR_RETURN(int pre, any_star());
        GS_ASSIGN_OR_RETURN(seq, list_node(AstNode::kConcat, {pre, seq}));
      }
      if (!anchored_end) {
        GS_ASSIGN_OR_RETURN(int post, any_star());
        GS_ASSIGN_OR_RETURN(seq, list_node(AstNode::kConcat, {seq, post}));
      }
      alts.push_back(seq);
      if (at_end()) break;
      if (!eat('|')) return error("unmatched ')'");
    }
    return list_node(AstNode::kAlt, std::move(alts));
  }

  Result<int> alternation() {
    std::vector<int> alts;
    for (;;) {
      GS_ASSIGN_OR_RETURN(int seq, sequence(false, nullptr));
      alts.push_back(seq);
      if (!eat('|')) break;
    }
    return list_node(AstNode::kAlt, std::move(alts));
  }

  Result<int> sequence(bool top, bool* anchored_end) {
    std::vector<int> items;
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$') {
        ++i_;
        if (top && (at_end() || peek() == '|')) {
          *anchored_end = true;
          break;
        }
        return error("'$' is only supported at the end of the pattern");
      }
      if (peek() == '^') return error("'^' is only supported at the start of the pattern");
      GS_ASSIGN_OR_RETURN(int a, atom());
      GS_ASSIGN_OR_RETURN(a, quantified(a));
      items.push_back(a);
    }
    return list_node(AstNode::kConcat, std::move(items));
  }

  // Parses {n}, {n,}, {n,m} at i_ (on '{'); nullopt-like false if the text
  // is not a quantifier (then '{' is a literal, as browsers treat it).
  bool braces(uint32_t* min, uint32_t* max, bool* too_big) {
    size_t j = i_ + 1;
    auto number = [&](uint32_t* out) {
      const size_t from = j;
      uint64_t v = 0;
      while (j < cps_.size() && cps_[j] >= '0' && cps_[j] <= '9') {
        v = std::min<uint64_t>(v * 10 + (cps_[j] - '0'), uint64_t{1} << 40);
        ++j;
      }
      if (v > kMaxRepeat) *too_big = true;
      *out = static_cast<uint32_t>(std::min<uint64_t>(v, kMaxRepeat + 1));
      return j > from;
    };
    if (!number(min)) return false;
    *max = *min;
    if (j < cps_.size() && cps_[j] == ',') {
      ++j;
      if (!number(max)) *max = kRepeatUnbounded;
    }
    if (j >= cps_.size() || cps_[j] != '}') return false;
    i_ = j + 1;
    return true;
  }

  Result<int> quantified(int atom) {
    uint32_t min = 0, max = 0;
    bool too_big = false;
    if (eat('*')) {
      max = kRepeatUnbounded;
    } else if (eat('+')) {
      min = 1;
      max = kRepeatUnbounded;
    } else if (eat('?')) {
      max = 1;
    } else if (peek() == '{' && braces(&min, &max, &too_big)) {
      if (too_big) return error("repetition count above 1000");
      if (max < min) return error("repetition {n,m} with m < n");
    } else {
      return atom;
    }
    eat('?');  // lazy: the same strings match
    if (peek() == '*' || peek() == '+' || peek() == '?') return error("nothing to repeat");
    AstNode n;
    n.kind = AstNode::kRepeat;
    n.children = {atom};
    n.min = min;
    n.max = max;
    return add(std::move(n));
  }

  Result<int> atom() {
    const uint32_t c = cps_[i_++];
    switch (c) {
      case '(':
        return group();
      case '[': {
        GS_ASSIGN_OR_RETURN(CharSet set, char_class());
        return set_node(std::move(set));
      }
      case '.':
        return set_node(dot());
      case '\\': {
        GS_ASSIGN_OR_RETURN(ClassAtom a, escape(false));
        return set_node(std::move(a.set));
      }
      case '*':
      case '+':
      case '?':
        --i_;
        return error("nothing to repeat");
      case '{': {
        uint32_t min, max;
        bool too_big = false;
        --i_;
        if (braces(&min, &max, &too_big)) return error("nothing to repeat");
        ++i_;
        return set_node({{c, c}});
      }
      default:
        return set_node({{c, c}});
    }
  }

  Result<int> group() {
    if (eat('?')) {
      if (eat(':')) {
        // non-capturing
      } else if (peek() == '<' && peek(1) != '=' && peek(1) != '!') {
        while (!at_end() && peek() != '>') ++i_;  // a named group: the name does not matter
        if (!eat('>')) return error("unterminated group name");
      } else if (peek() == '=' || peek() == '!' || peek() == '<') {
        return error("lookaround assertions are not supported");
      } else {
        return error("unsupported group syntax '(?'");
      }
    }
    GS_ASSIGN_OR_RETURN(int inner, alternation());
    if (!eat(')')) return error("missing ')'");
    return inner;
  }

  Result<uint32_t> hex(int count) {
    uint32_t v = 0;
    for (int k = 0; k < count; ++k) {
      const int h = hex_digit(peek());
      if (h < 0) return error("bad hexadecimal escape");
      v = v * 16 + static_cast<uint32_t>(h);
      ++i_;
    }
    return v;
  }

  Result<ClassAtom> escape(bool in_class) {
    if (at_end()) return error("pattern ends with '\\'");
    const uint32_t c = cps_[i_++];
    auto one = [](uint32_t cp) {
      ClassAtom a;
      a.set = {{cp, cp}};
      a.single = true;
      a.cp = cp;
      return a;
    };
    auto many = [](CharSet s) {
      ClassAtom a;
      a.set = std::move(s);
      return a;
    };
    switch (c) {
      case 'd':
        return many(digits());
      case 'D':
        return many(complement(digits()));
      case 'w':
        return many(word());
      case 'W':
        return many(complement(word()));
      case 's':
        return many(space());
      case 'S':
        return many(complement(space()));
      case 'n':
        return one('\n');
      case 'r':
        return one('\r');
      case 't':
        return one('\t');
      case 'f':
        return one('\f');
      case 'v':
        return one('\v');
      case 'b':
        if (in_class) return one('\b');
        return error("word boundaries (\\b) are not supported");
      case 'B':
        return error("word boundaries (\\B) are not supported");
      case '0':
        if (peek() >= '0' && peek() <= '9') return error("octal escapes are not supported");
        return one(0);
      case 'x': {
        GS_ASSIGN_OR_RETURN(uint32_t v, hex(2));
        return one(v);
      }
      case 'u': {
        if (peek() == '{') return error("\\u{...} escapes are not supported");
        GS_ASSIGN_OR_RETURN(uint32_t v, hex(4));
        if (v >= 0xD800 && v <= 0xDBFF && peek() == '\\' && peek(1) == 'u') {
          const size_t save = i_;
          i_ += 2;
          auto low = hex(4);
          if (low.ok() && *low >= 0xDC00 && *low <= 0xDFFF)
            return one(0x10000 + ((v - 0xD800) << 10) + (*low - 0xDC00));
          i_ = save;
        }
        if (v >= 0xD800 && v <= 0xDFFF) return error("lone surrogate escape");
        return one(v);
      }
      case 'c':
        return error("control escapes (\\c) are not supported");
      case 'k':
        return error("backreferences are not supported");
      case 'p':
      case 'P':
        return error("Unicode property escapes are not supported");
      default:
        if (c >= '1' && c <= '9') return error("backreferences are not supported");
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
          return error(std::string("unknown escape '\\") + static_cast<char>(c) + "'");
        }
        return one(c);
    }
  }

  Result<ClassAtom> class_atom() {
    const uint32_t c = cps_[i_++];
    if (c == '\\') return escape(true);
    ClassAtom a;
    a.set = {{c, c}};
    a.single = true;
    a.cp = c;
    return a;
  }

  Result<CharSet> char_class() {
    const bool negate = eat('^');
    CharSet set;
    for (;;) {
      if (at_end()) return error("missing ']'");
      if (eat(']')) break;
      GS_ASSIGN_OR_RETURN(ClassAtom lo, class_atom());
      if (peek() == '-' && peek(1) != ']' && i_ + 1 < cps_.size()) {
        ++i_;
        GS_ASSIGN_OR_RETURN(ClassAtom hi, class_atom());
        if (!lo.single || !hi.single) return error("class range with a class escape");
        if (hi.cp < lo.cp) return error("class range out of order");
        set.emplace_back(lo.cp, hi.cp);
      } else {
        set.insert(set.end(), lo.set.begin(), lo.set.end());
      }
    }
    set = normalized(std::move(set));
    return negate ? complement(set) : set;
  }

  std::vector<uint32_t> cps_;
  size_t i_ = 0;
  Ast ast_;
};

}  // namespace

Result<Ast> parse(std::string_view pattern) {
  std::vector<uint32_t> cps;
  if (!decode_utf8(pattern, &cps)) return Error("pattern is not valid UTF-8");
  return Parser(std::move(cps)).run();
}

}  // namespace gs::grammar::re
