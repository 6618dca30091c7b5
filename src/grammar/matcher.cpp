// The byte-at-a-time recognizer behind JsonMatcher: a set of threads (one
// per live anyOf alternative), each a stack of frames over the compiled
// Program. A byte is accepted only if some thread can still complete a
// document after it, so every accepted text is a valid prefix.
#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>

#include "grammar/grammar_internal.h"
#include "grammar/scanners.h"

namespace gs::grammar {
namespace {

bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }

// Property j may come next in an object whose next property index is pos:
// skipping optional ones, never a required one.
bool eligible(const Node& n, uint32_t pos, uint32_t j) { return j >= pos && j <= n.next_required[pos]; }

bool any_eligible(const Node& n, const KeyScan& k, uint32_t pos) {
  for (uint32_t i = k.lo; i < k.hi; ++i) {
    if (eligible(n, pos, n.key_order[i])) return true;
  }
  return false;
}

bool may_close_object(const Node& n, uint32_t pos) { return n.next_required[pos] == n.properties.size(); }
bool may_add_member(const Node& n, uint32_t pos) {
  return pos < n.properties.size() || n.additional != kNoNode;
}

// The value on top of the stack is complete: pop it and move its container on.
void value_done(std::vector<Frame>& f) {
  f.pop_back();
  Frame& t = f.back();
  if (t.state == State::kObjInValue) {
    t.state = State::kObjAfterValue;
    t.ws = 0;
  } else if (t.state == State::kArrInValue) {
    t.state = State::kArrAfterValue;
    ++t.u.box.pos;
    t.ws = 0;
  }
}

void push_value(std::vector<Frame>& f, uint32_t node) {
  const uint8_t depth = f.back().depth;
  f.push_back(make_frame(State::kValueStart, node, depth));
}

// A key of an object with listed properties (the frame below is the object).
bool feed_key(const Program& p, std::vector<Frame>& f, uint8_t b) {
  Frame& top = f.back();
  KeyScan& k = top.u.key;
  const Node& n = p.nodes[top.node];
  Frame& obj = f[f.size() - 2];
  const uint32_t pos = obj.u.box.pos;
  // A quote closes the key unless it is an escaped quote inside a listed
  // key (other keys hold no escapes).
  uint32_t lo = k.lo, hi = k.hi;
  if (b == '"' && !(lo < hi && narrow(n.sorted_keys, lo, hi, k.pos, b))) {
    uint32_t member;
    if (k.lo < k.hi && n.sorted_keys[k.lo].size() == k.pos) {
      const uint32_t j = n.key_order[k.lo];
      if (!eligible(n, pos, j)) return false;  // a listed key out of order or twice
      member = n.properties[j].node;
      obj.u.box.pos = j + 1;
    } else if (k.other && k.utf8 == kU8None) {
      member = n.additional;
    } else {
      return false;
    }
    obj.u.box.member = member;
    obj.state = State::kObjAfterKey;
    obj.ws = 0;
    f.pop_back();
    return true;
  }
  bool listed = k.lo < k.hi && narrow(n.sorted_keys, k.lo, k.hi, k.pos, b);
  if (!listed) k.lo = k.hi;
  if (k.other) {
    bool done;
    // Other keys are written without escapes, so that their bytes tell them
    // apart from the listed keys exactly.
    if (b == '\\' || b == '"' || b < 0x20 || !utf8_step(k.utf8, b, done)) k.other = 0;
  }
  ++k.pos;
  // The range also holds ineligible keys (to refuse them at the quote); it
  // only keeps the key alive if an eligible one is among them.
  return (listed && any_eligible(n, k, pos)) || k.other;
}

bool feed(const Program& p, std::vector<Frame>& f, size_t start, uint8_t b, bool& forked);

// Splits the thread at an anyOf between the alternatives that can start with `b`.
bool fork(const Program& p, std::vector<Frame>& f, size_t start, uint8_t b, bool& forked) {
  forked = true;
  const Node& n = p.nodes[f.back().node];
  const size_t len = f.size() - start;
  assert(len <= kMaxThreadFrames);
  Frame saved[kMaxThreadFrames];
  std::copy(f.begin() + static_cast<std::ptrdiff_t>(start), f.end(), saved);
  f.resize(start);
  bool any = false;
  for (uint32_t alt : n.alternatives) {
    if (!p.nodes[alt].first.has(b)) continue;
    const size_t s = f.size();
    f.insert(f.end(), saved, saved + len);
    f.back().node = alt;
    if (feed(p, f, s, b, forked)) {
      any = true;
    } else {
      f.resize(s);
    }
  }
  return any;
}

// Feeds `b` to the thread from f[start] to the end of f. The thread is
// replaced by whatever survives: nothing (false), itself, or several threads.
bool feed(const Program& p, std::vector<Frame>& f, size_t start, uint8_t b, bool& forked) {
  for (;;) {
    Frame& t = f.back();
    const Node& n = p.nodes[t.node];
    switch (t.state) {
      case State::kThread:
      case State::kDocument:  // the root value is done: nothing may follow
      case State::kObjInValue:
      case State::kArrInValue:
        return false;

      case State::kValueStart: {
        if (is_ws(b)) return ++t.ws <= kMaxWhitespace;
        if (!n.first.has(b)) return false;
        if (n.kind == NodeKind::kAnyOf) {
          uint32_t only = kNoNode;
          int matches = 0;
          for (uint32_t alt : n.alternatives) {
            if (p.nodes[alt].first.has(b)) only = alt, ++matches;
          }
          if (matches != 1) return matches > 1 && fork(p, f, start, b, forked);
          t.node = only;
          continue;
        }
        if (n.kind == NodeKind::kLiteral) {
          reset_frame(t, State::kLiteral);
          t.u.lit.hi = static_cast<uint32_t>(n.literals.size());
          continue;
        }
        switch (b) {
          case '{':
            if (!(n.types & kObject) || t.depth >= kMaxDepth) return false;
            reset_frame(t, State::kObjOpen);
            ++t.depth;
            return true;
          case '[':
            if (!(n.types & kArray) || t.depth >= kMaxDepth) return false;
            reset_frame(t, State::kArrOpen);
            ++t.depth;
            return true;
          case '"':
            if (!(n.types & kString)) return false;
            reset_frame(t, State::kString);
            return true;
          case 't':
          case 'f':
          case 'n': {
            if (!(n.types & (b == 'n' ? kNull : kBool))) return false;
            t.node = b == 'n' ? p.null_node : p.bool_node;
            reset_frame(t, State::kLiteral);
            t.u.lit.hi = static_cast<uint32_t>(p.nodes[t.node].literals.size());
            continue;
          }
          default:
            if (!(n.types & (kInteger | kNumber)) || !(b == '-' || is_digit(b))) return false;
            reset_frame(t, State::kNumber);
            continue;
        }
      }

      case State::kObjOpen:
      case State::kObjAfterComma: {
        if (is_ws(b)) return ++t.ws <= kMaxWhitespace;
        const uint32_t pos = t.u.box.pos;
        if (b == '}' && t.state == State::kObjOpen && may_close_object(n, pos)) {
          value_done(f);
          return true;
        }
        if (b != '"' || !may_add_member(n, pos)) return false;
        const uint32_t node = t.node;
        const uint8_t depth = t.depth;
        const bool other = n.additional != kNoNode;
        const auto keys = static_cast<uint32_t>(n.sorted_keys.size());
        t.state = State::kObjAfterKey;  // provisional: the key frame sets it when it closes
        if (n.properties.empty()) {
          f.push_back(make_frame(State::kFreeKey, node, depth));
        } else {
          Frame key = make_frame(State::kKey, node, depth);  // lo = pos = 0, utf8 = kU8None
          key.u.key.hi = keys;
          key.u.key.other = other;
          f.push_back(key);
        }
        return true;
      }
      case State::kObjAfterKey:
        if (is_ws(b)) return ++t.ws <= kMaxWhitespace;
        if (b != ':') return false;
        t.state = State::kObjInValue;
        t.ws = 0;
        push_value(f, t.u.box.member);
        return true;
      case State::kObjAfterValue:
        if (is_ws(b)) return ++t.ws <= kMaxWhitespace;
        if (b == ',' && may_add_member(n, t.u.box.pos)) {
          t.state = State::kObjAfterComma;
          t.ws = 0;
          return true;
        }
        if (b == '}' && may_close_object(n, t.u.box.pos)) {
          value_done(f);
          return true;
        }
        return false;

      case State::kArrOpen:
        if (is_ws(b)) return ++t.ws <= kMaxWhitespace;
        if (b == ']') {
          if (n.min_items > 0) return false;
          value_done(f);
          return true;
        }
        if (n.max_items == 0 || n.item_node(0) == kNoNode) return false;
        t.state = State::kArrInValue;
        t.ws = 0;
        push_value(f, n.item_node(0));
        continue;
      case State::kArrAfterValue: {
        if (is_ws(b)) return ++t.ws <= kMaxWhitespace;
        const uint32_t count = t.u.box.pos;
        if (b == ',' && count < n.max_items && n.item_node(count) != kNoNode) {
          t.state = State::kArrInValue;
          t.ws = 0;
          push_value(f, n.item_node(count));
          return true;
        }
        if (b == ']' && count >= n.min_items) {
          value_done(f);
          return true;
        }
        return false;
      }

      case State::kKey:
        return feed_key(p, f, b);
      case State::kFreeKey:
        switch (scan_string(p, nullptr, t.u.str, b)) {
          case Scan::kReject:
            return false;
          case Scan::kMore:
            return true;
          case Scan::kClosed: {
            Frame& obj = f[f.size() - 2];
            obj.u.box.member = n.additional;
            obj.state = State::kObjAfterKey;
            obj.ws = 0;
            f.pop_back();
            return true;
          }
        }
        return false;
      case State::kString:
        switch (scan_string(p, &n, t.u.str, b)) {
          case Scan::kReject:
            return false;
          case Scan::kMore:
            return true;
          case Scan::kClosed:
            value_done(f);
            return true;
        }
        return false;
      case State::kNumber:
        switch (scan_number(n, t.u.num, b)) {
          case Num::kReject:
            return false;
          case Num::kTaken:
            return true;
          case Num::kEnded:
            value_done(f);
            continue;  // the byte belongs to the container
        }
        return false;
      case State::kLiteral: {
        LiteralScan& s = t.u.lit;
        if (narrow(n.literals, s.lo, s.hi, s.pos, b)) {
          ++s.pos;
          return true;
        }
        if (!literal_can_end(n, s)) return false;
        value_done(f);
        continue;
      }
    }
    return false;
  }
}

// Thread boundaries: indices of the kThread frames, plus the end.
void thread_starts(const std::vector<Frame>& f, std::vector<size_t>& starts) {
  starts.clear();
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i].state == State::kThread) starts.push_back(i);
  }
  starts.push_back(f.size());
}

size_t thread_count(const std::vector<Frame>& frames) {
  return static_cast<size_t>(std::count_if(frames.begin(), frames.end(),
                                           [](const Frame& fr) { return fr.state == State::kThread; }));
}

// Drops threads equal to an earlier one, and any beyond kMaxThreads.
void dedupe(std::vector<Frame>& frames, std::vector<Frame>& scratch) {
  std::vector<size_t> starts;
  thread_starts(frames, starts);
  if (starts.size() <= 2) return;
  scratch.clear();
  std::vector<std::pair<size_t, size_t>> kept;  // (offset in scratch, length)
  for (size_t t = 0; t + 1 < starts.size() && kept.size() < kMaxThreads; ++t) {
    const Frame* a = frames.data() + starts[t];
    const size_t len = starts[t + 1] - starts[t];
    bool seen = false;
    for (auto [off, klen] : kept) {
      // Headers differ (the first holds the count): compare what follows.
      if (klen == len && std::memcmp(scratch.data() + off + 1, a + 1, (len - 1) * sizeof(Frame)) == 0) {
        seen = true;
        break;
      }
    }
    if (seen) continue;
    kept.emplace_back(scratch.size(), len);
    scratch.insert(scratch.end(), a, a + len);
  }
  frames.swap(scratch);
}

}  // namespace

void start(const Program& program, std::vector<Frame>& frames) {
  frames.clear();
  frames.push_back(make_frame(State::kThread, 1, 0));  // node: the number of threads
  frames.push_back(make_frame(State::kDocument, 0, 0));
  frames.push_back(make_frame(State::kValueStart, program.root, 0));
}

bool step(const Program& program, std::vector<Frame>& frames, std::vector<Frame>& scratch, uint8_t byte) {
  bool forked = false;
  if (frames[0].node == 1) {
    // Most bytes the token filter tries are plain characters inside a string
    // without length or pattern limits.
    Frame& top = frames.back();
    if (top.state == State::kString && byte >= 0x20 && byte < 0x80 && byte != '"' && byte != '\\' &&
        top.u.str.esc == 0 && top.u.str.utf8 == kU8None) {
      const Node& n = program.nodes[top.node];
      if (n.dfa < 0 && n.max_length == kUnbounded) {
        ++top.u.str.count;
        return true;
      }
    }
    // One thread, the usual case: work in place.
    if (!feed(program, frames, 0, byte, forked)) return false;
    if (!forked) return true;
  } else {
    scratch.clear();
    size_t s = 0;
    for (size_t i = 1; i <= frames.size(); ++i) {
      if (i < frames.size() && frames[i].state != State::kThread) continue;
      const size_t out = scratch.size();
      scratch.insert(scratch.end(), frames.begin() + static_cast<std::ptrdiff_t>(s),
                     frames.begin() + static_cast<std::ptrdiff_t>(i));
      if (!feed(program, scratch, out, byte, forked)) scratch.resize(out);
      s = i;
    }
    frames.swap(scratch);
    if (frames.empty()) return false;
  }
  if (thread_count(frames) > 1) dedupe(frames, scratch);
  frames[0].node = static_cast<uint32_t>(thread_count(frames));
  return true;
}

bool is_complete(const Program& program, const std::vector<Frame>& frames) {
  std::vector<size_t> starts;
  thread_starts(frames, starts);
  for (size_t t = 0; t + 1 < starts.size(); ++t) {
    const Frame& top = frames[starts[t + 1] - 1];
    if (top.state == State::kDocument) return true;
    // A number or literal at the root may end without a closing byte: the
    // thread is its header, the document and that value.
    if (starts[t + 1] - starts[t] != 3) continue;
    const Node& n = program.nodes[top.node];
    if (top.state == State::kNumber && number_can_end(n, top.u.num)) return true;
    if (top.state == State::kLiteral && literal_can_end(n, top.u.lit)) return true;
  }
  return false;
}

bool number_can_start(const Node& node) {
  for (uint8_t b : {'-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'}) {
    NumberScan s{};
    if (scan_number(node, s, b) != Num::kTaken) continue;
    if (b != '-') return true;
    for (uint8_t c = '0'; c <= '9'; ++c) {
      NumberScan t = s;
      if (scan_number(node, t, c) == Num::kTaken) return true;
    }
  }
  return false;
}

}  // namespace gs::grammar
