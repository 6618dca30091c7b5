// Ast -> byte-level NFA (Thompson) -> DFA (subset construction), pruned to
// the states that can still accept, with per-state character distances.
#include <algorithm>
#include <deque>
#include <map>

#include "grammar/regex.h"
#include "grammar/regex_internal.h"
#include "core/utf8.h"

namespace gs::grammar {
namespace {

constexpr size_t kMaxNfaStates = 60000;
constexpr size_t kMaxDfaStates = 4096;
// NFA states visited while building the DFA: bounds the compile time of a
// pattern (schemas come from clients) to well under a second.
constexpr size_t kMaxDeterminizeWork = 20'000'000;

// Bytes that begin a character count one towards a length; continuation
// bytes count nothing.
uint32_t char_weight(int byte) { return byte < 0x80 || byte >= 0xC0 ? 1 : 0; }

using ByteSeq = std::vector<std::pair<uint8_t, uint8_t>>;

// The UTF-8 encodings of code points lo..hi as sequences of byte ranges
// (the construction of RE2 and Go's regexp/syntax).
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<ByteSeq>& out) {
  for (uint32_t max : {0x7Fu, 0x7FFu, 0xFFFFu}) {
    if (lo <= max && hi > max) {
      utf8_sequences(lo, max, out);
      utf8_sequences(max + 1, hi, out);
      return;
    }
  }
  if (hi < 0x80) {
    out.push_back({{static_cast<uint8_t>(lo), static_cast<uint8_t>(hi)}});
    return;
  }
  for (int i = 1; i < 4; ++i) {
    const uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_sequences(lo, lo | m, out);
        utf8_sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_sequences(lo, (hi & ~m) - 1, out);
        utf8_sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  std::string a, b;
  append_utf8(lo, a);
  append_utf8(hi, b);
  ByteSeq seq;
  for (size_t k = 0; k < a.size(); ++k)
    seq.emplace_back(static_cast<uint8_t>(a[k]), static_cast<uint8_t>(b[k]));
  out.push_back(std::move(seq));
}

struct Edge {
  uint8_t lo, hi;
  int32_t to;
};
struct NState {
  std::vector<Edge> edges;
  std::vector<int32_t> eps;
};

class NfaBuilder {
 public:
  explicit NfaBuilder(const re::Ast& ast) : ast_(ast) {}

  Status build() {
    start_ = add();
    GS_ASSIGN_OR_RETURN(accept_, emit(ast_.root, start_));
    return Status::Ok();
  }
  const std::vector<NState>& states() const { return states_; }
  int32_t start() const { return start_; }
  int32_t accept() const { return accept_; }

 private:
  int32_t add() {
    states_.emplace_back();
    return static_cast<int32_t>(states_.size() - 1);
  }
  Status check_size() const {
    if (states_.size() > kMaxNfaStates) return Error("pattern too large");
    return Status::Ok();
  }

  // Adds the automaton of `node` starting at `from`; returns its end state.
  Result<int32_t> emit(int node, int32_t from) {
    GS_RETURN_IF_ERROR(check_size());
    const re::AstNode& n = ast_.nodes[static_cast<size_t>(node)];
    switch (n.kind) {
      case re::AstNode::kEmpty:
        return from;
      case re::AstNode::kSet: {
        const int32_t to = add();
        std::vector<ByteSeq> seqs;
        for (auto [lo, hi] : n.set) utf8_sequences(lo, hi, seqs);
        // The sequences end in runs of any continuation byte (80-BF); one
        // shared "k such bytes still due" state per k keeps characters that
        // differ only in their first bytes from becoming distinct DFA states.
        int32_t due[4] = {to, -1, -1, -1};
        auto due_state = [&](size_t k) {
          for (size_t j = 1; j <= k; ++j) {
            if (due[j] < 0) {
              due[j] = add();
              states_[static_cast<size_t>(due[j])].edges.push_back({0x80, 0xBF, due[j - 1]});
            }
          }
          return due[k];
        };
        for (const ByteSeq& seq : seqs) {
          size_t tail = 0;
          while (tail + 1 < seq.size() &&
                 seq[seq.size() - 1 - tail] == std::pair<uint8_t, uint8_t>{0x80, 0xBF})
            ++tail;
          int32_t cur = from;
          for (size_t k = 0; k + tail < seq.size(); ++k) {
            const int32_t next = k + 1 + tail == seq.size() ? due_state(tail) : add();
            states_[static_cast<size_t>(cur)].edges.push_back({seq[k].first, seq[k].second, next});
            cur = next;
          }
        }
        return to;
      }
      case re::AstNode::kConcat: {
        int32_t cur = from;
        for (int child : n.children) {
          GS_ASSIGN_OR_RETURN(cur, emit(child, cur));
        }
        return cur;
      }
      case re::AstNode::kAlt: {
        const int32_t to = add();
        for (int child : n.children) {
          const int32_t s = add();
          states_[static_cast<size_t>(from)].eps.push_back(s);
          GS_ASSIGN_OR_RETURN(int32_t e, emit(child, s));
          states_[static_cast<size_t>(e)].eps.push_back(to);
        }
        return to;
      }
      case re::AstNode::kRepeat: {
        const int child = n.children[0];
        int32_t cur = from;
        for (uint32_t k = 0; k < n.min; ++k) {
          GS_ASSIGN_OR_RETURN(cur, emit(child, cur));
        }
        if (n.max == re::kRepeatUnbounded) {
          const int32_t loop = add();
          states_[static_cast<size_t>(cur)].eps.push_back(loop);
          GS_ASSIGN_OR_RETURN(int32_t e, emit(child, loop));
          states_[static_cast<size_t>(e)].eps.push_back(loop);
          return loop;
        }
        for (uint32_t k = n.min; k < n.max; ++k) {
          GS_ASSIGN_OR_RETURN(int32_t e, emit(child, cur));
          const int32_t skip = add();
          states_[static_cast<size_t>(cur)].eps.push_back(skip);
          states_[static_cast<size_t>(e)].eps.push_back(skip);
          cur = skip;
          GS_RETURN_IF_ERROR(check_size());
        }
        return cur;
      }
    }
    return from;
  }

  const re::Ast& ast_;
  std::vector<NState> states_;
  int32_t start_ = 0;
  int32_t accept_ = 0;
};

void closure(const std::vector<NState>& nfa, std::vector<int32_t>& set, std::vector<uint8_t>& seen) {
  std::vector<int32_t> stack(set.begin(), set.end());
  for (int32_t s : set) seen[static_cast<size_t>(s)] = 1;
  while (!stack.empty()) {
    const int32_t s = stack.back();
    stack.pop_back();
    for (int32_t t : nfa[static_cast<size_t>(s)].eps) {
      if (!seen[static_cast<size_t>(t)]) {
        seen[static_cast<size_t>(t)] = 1;
        set.push_back(t);
        stack.push_back(t);
      }
    }
  }
  for (int32_t s : set) seen[static_cast<size_t>(s)] = 0;
  std::sort(set.begin(), set.end());
}

Result<Dfa> determinize(const NfaBuilder& b) {
  const std::vector<NState>& nfa = b.states();
  // Bytes no edge tells apart share a class: one target computation each.
  std::vector<uint8_t> boundary(257, 0);
  boundary[0] = 1;
  for (const NState& s : nfa) {
    for (const Edge& e : s.edges) boundary[e.lo] = boundary[e.hi + 1] = 1;
  }
  std::vector<std::pair<int, int>> classes;  // [first, last] byte
  for (int c = 0; c < 256; ++c) {
    if (boundary[static_cast<size_t>(c)]) classes.emplace_back(c, c);
    classes.back().second = c;
  }

  std::vector<uint8_t> seen(nfa.size(), 0);
  std::map<std::vector<int32_t>, int32_t> index;
  std::vector<std::vector<int32_t>> sets;
  std::vector<int32_t> start = {b.start()};
  closure(nfa, start, seen);
  index.emplace(start, 0);
  sets.push_back(start);
  Dfa dfa;
  size_t work = 0;
  for (size_t d = 0; d < sets.size(); ++d) {
    dfa.next.resize((d + 1) * 256, Dfa::kDead);
    for (auto [first, last] : classes) {
      work += sets[d].size();
      if (work > kMaxDeterminizeWork) return Error("pattern too complex to compile");
      std::vector<int32_t> target;
      for (int32_t s : sets[d]) {
        for (const Edge& e : nfa[static_cast<size_t>(s)].edges) {
          if (e.lo <= first && first <= e.hi) target.push_back(e.to);
        }
      }
      if (target.empty()) continue;
      std::sort(target.begin(), target.end());
      target.erase(std::unique(target.begin(), target.end()), target.end());
      closure(nfa, target, seen);
      work += target.size();
      auto [it, added] = index.emplace(target, static_cast<int32_t>(sets.size()));
      if (added) {
        if (sets.size() >= kMaxDfaStates)
          return Error("pattern too complex (more than {} states)", kMaxDfaStates);
        sets.push_back(target);
      }
      for (int c = first; c <= last; ++c) dfa.next[d * 256 + static_cast<size_t>(c)] = it->second;
    }
  }
  for (const auto& set : sets) {
    dfa.accepting.push_back(std::binary_search(set.begin(), set.end(), b.accept()) ? 1 : 0);
  }
  return dfa;
}

// Keeps the states reachable from the start that can reach acceptance and
// computes their character distances to acceptance.
Dfa finish(const Dfa& in) {
  const size_t n = in.accepting.size();
  std::vector<std::vector<std::pair<int32_t, uint32_t>>> preds(n);  // (state, min weight)
  // Per state, one entry per distinct successor (a row of 256 bytes names
  // few states): last_from/slot find it without sorting the row.
  std::vector<int32_t> last_from(n, -1);
  std::vector<size_t> slot(n, 0);
  for (size_t s = 0; s < n; ++s) {
    for (int c = 0; c < 256; ++c) {
      const int32_t t = in.next[s * 256 + static_cast<size_t>(c)];
      if (t == Dfa::kDead) continue;
      const auto ti = static_cast<size_t>(t);
      if (last_from[ti] != static_cast<int32_t>(s)) {
        last_from[ti] = static_cast<int32_t>(s);
        slot[ti] = preds[ti].size();
        preds[ti].emplace_back(static_cast<int32_t>(s), char_weight(c));
      } else {
        preds[ti][slot[ti]].second = std::min(preds[ti][slot[ti]].second, char_weight(c));
      }
    }
  }
  // Fewest characters to acceptance: 0-1 breadth-first search backwards.
  std::vector<uint32_t> min_chars(n, Dfa::kUnbounded);
  std::deque<int32_t> queue;
  for (size_t s = 0; s < n; ++s) {
    if (in.accepting[s]) {
      min_chars[s] = 0;
      queue.push_back(static_cast<int32_t>(s));
    }
  }
  while (!queue.empty()) {
    const int32_t s = queue.front();
    queue.pop_front();
    for (auto [p, w] : preds[static_cast<size_t>(s)]) {
      const uint32_t d = min_chars[static_cast<size_t>(s)] + w;
      if (d < min_chars[static_cast<size_t>(p)]) {
        min_chars[static_cast<size_t>(p)] = d;
        if (w == 0) {
          queue.push_front(p);
        } else {
          queue.push_back(p);
        }
      }
    }
  }
  if (n == 0 || min_chars[0] == Dfa::kUnbounded) return Dfa{};

  // Renumber the live states reachable from the start, start first.
  std::vector<int32_t> renum(n, -1);
  std::vector<int32_t> order = {0};
  renum[0] = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    for (int c = 0; c < 256; ++c) {
      const int32_t t = in.next[static_cast<size_t>(order[k]) * 256 + static_cast<size_t>(c)];
      if (t != Dfa::kDead && min_chars[static_cast<size_t>(t)] != Dfa::kUnbounded &&
          renum[static_cast<size_t>(t)] < 0) {
        renum[static_cast<size_t>(t)] = static_cast<int32_t>(order.size());
        order.push_back(t);
      }
    }
  }
  Dfa out;
  const size_t m = order.size();
  out.next.assign(m * 256, Dfa::kDead);
  out.accepting.resize(m);
  out.min_chars.resize(m);
  for (size_t k = 0; k < m; ++k) {
    const auto s = static_cast<size_t>(order[k]);
    out.accepting[k] = in.accepting[s];
    out.min_chars[k] = min_chars[s];
    for (int c = 0; c < 256; ++c) {
      const int32_t t = in.next[s * 256 + static_cast<size_t>(c)];
      if (t != Dfa::kDead && renum[static_cast<size_t>(t)] >= 0)
        out.next[k * 256 + static_cast<size_t>(c)] = renum[static_cast<size_t>(t)];
    }
  }

  // Most characters to acceptance: peel states whose successors are all
  // known; whatever never peels reaches a loop.
  std::vector<std::vector<int32_t>> succ(m);
  std::vector<std::vector<int32_t>> pred(m);
  std::vector<int32_t> seen_from(m, -1);
  for (size_t s = 0; s < m; ++s) {
    for (int c = 0; c < 256; ++c) {
      const int32_t t = out.next[s * 256 + static_cast<size_t>(c)];
      if (t == Dfa::kDead || seen_from[static_cast<size_t>(t)] == static_cast<int32_t>(s)) continue;
      seen_from[static_cast<size_t>(t)] = static_cast<int32_t>(s);
      succ[s].push_back(t);
      pred[static_cast<size_t>(t)].push_back(static_cast<int32_t>(s));
    }
  }
  std::vector<size_t> pending(m);
  std::vector<int32_t> ready;
  for (size_t s = 0; s < m; ++s) {
    pending[s] = succ[s].size();
    if (pending[s] == 0) ready.push_back(static_cast<int32_t>(s));
  }
  out.max_chars.assign(m, Dfa::kUnbounded);
  while (!ready.empty()) {
    const auto s = static_cast<size_t>(ready.back());
    ready.pop_back();
    uint32_t best = 0;  // every kept state can accept, so some path gives a value
    for (int c = 0; c < 256; ++c) {
      const int32_t t = out.next[s * 256 + static_cast<size_t>(c)];
      if (t != Dfa::kDead) best = std::max(best, char_weight(c) + out.max_chars[static_cast<size_t>(t)]);
    }
    out.max_chars[s] = best;
    for (int32_t p : pred[s]) {
      if (--pending[static_cast<size_t>(p)] == 0) ready.push_back(p);
    }
  }
  return out;
}

}  // namespace

bool Dfa::matches(std::string_view text) const {
  if (empty()) return false;
  int32_t s = 0;
  for (char c : text) {
    s = step(s, static_cast<uint8_t>(c));
    if (s == kDead) return false;
  }
  return accepting[static_cast<size_t>(s)] != 0;
}

Result<Dfa> compile_regex(std::string_view pattern) {
  GS_ASSIGN_OR_RETURN(re::Ast ast, re::parse(pattern));
  NfaBuilder builder(ast);
  GS_RETURN_IF_ERROR(builder.build());
  GS_ASSIGN_OR_RETURN(Dfa dfa, determinize(builder));
  return finish(dfa);
}

Dfa without_escaped_bytes(const Dfa& dfa) {
  if (dfa.empty()) return dfa;
  Dfa cut = dfa;
  for (size_t s = 0; s < cut.accepting.size(); ++s) {
    for (int c = 0; c < 0x20; ++c) cut.next[s * 256 + static_cast<size_t>(c)] = Dfa::kDead;
    cut.next[s * 256 + '"'] = Dfa::kDead;
    cut.next[s * 256 + '\\'] = Dfa::kDead;
  }
  return finish(cut);
}

}  // namespace gs::grammar
