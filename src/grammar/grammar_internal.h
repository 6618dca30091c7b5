// The compiled form of a JSON grammar and the matcher's per-byte state,
// shared by the schema compiler, the matcher and the token filter. Not part
// of the module's interface.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/status.h"
#include "grammar/regex.h"

namespace gs::grammar {

// Node::types bits.
inline constexpr uint8_t kNull = 1, kBool = 2, kInteger = 4, kNumber = 8, kString = 16, kObject = 32,
                         kArray = 64;
inline constexpr uint8_t kAllTypes = 127;

inline constexpr uint32_t kNoNode = std::numeric_limits<uint32_t>::max();
inline constexpr uint32_t kUnbounded = std::numeric_limits<uint32_t>::max();

// Limits that keep the matcher's state small and stop a model from looping
// forever inside one token class (documented in docs/STRUCTURED_OUTPUT.md).
inline constexpr int kMaxDepth = 64;       // nested objects and arrays
// One byte of whitespace between tokens at most (as Outlines' default): the
// output is compact JSON, and a model whose favourite allowed token is a
// space or newline cannot spend its budget on layout.
inline constexpr int kMaxWhitespace = 1;  // bytes in one run of whitespace
inline constexpr int kMaxIntDigits = 20;
inline constexpr int kMaxFracDigits = 20;
inline constexpr int kMaxExpDigits = 2;    // keeps every number finite as a double
inline constexpr size_t kMaxThreads = 32;  // live alternatives of anyOf at once
// A thread is its header, the document frame, one frame per open container
// and one for the value in progress.
inline constexpr size_t kMaxThreadFrames = kMaxDepth + 4;

struct ByteSet {
  uint64_t bits[4] = {0, 0, 0, 0};
  bool has(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  void set(uint8_t b) { bits[b >> 6] |= uint64_t{1} << (b & 63); }
  void set_range(uint8_t lo, uint8_t hi) {
    for (int b = lo; b <= hi; ++b) set(static_cast<uint8_t>(b));
  }
  void merge(const ByteSet& o) {
    for (int i = 0; i < 4; ++i) bits[i] |= o.bits[i];
  }
};

struct Property {
  std::string key;  // canonical JSON string content (escaped, no quotes)
  uint32_t node = kNoNode;
  bool required = false;
};

enum class NodeKind : uint8_t { kValue, kLiteral, kAnyOf };

struct Node {
  NodeKind kind = NodeKind::kValue;
  uint8_t types = 0;  // kValue: which JSON types; 0 accepts nothing

  // Strings.
  uint32_t min_length = 0;
  uint32_t max_length = kUnbounded;
  int32_t dfa = -1;  // Program::dfas index for pattern/format; escapes are then not emitted

  // Numbers (bounds already rounded to integers when only integers are allowed).
  bool has_min = false, has_max = false, min_exclusive = false, max_exclusive = false;
  double minimum = 0, maximum = 0;

  // Objects. Members come in `properties` order; other keys need `additional`.
  std::vector<Property> properties;
  std::vector<uint32_t> key_order;       // property indices sorted by key bytes
  std::vector<std::string> sorted_keys;  // properties[key_order[i]].key
  std::vector<uint32_t> next_required;   // [i]: first required index >= i, else properties.size()
  uint32_t additional = kNoNode;

  // Arrays.
  std::vector<uint32_t> prefix_items;
  uint32_t items = kNoNode;  // items after prefix_items; kNoNode: none
  uint32_t min_items = 0;
  uint32_t max_items = kUnbounded;

  // kLiteral: canonical serializations, sorted, unique.
  std::vector<std::string> literals;

  // kAnyOf: alternatives, none of them kAnyOf.
  std::vector<uint32_t> alternatives;

  ByteSet first;  // bytes a value of this node can start with (a superset)

  bool has_bounds() const { return has_min || has_max; }
  uint32_t item_node(uint32_t index) const {
    return index < prefix_items.size() ? prefix_items[index] : items;
  }
};

struct Program {
  std::vector<Node> nodes;
  std::vector<Dfa> dfas;
  uint32_t root = kNoNode;
  uint32_t bool_node = kNoNode;  // literals false, true
  uint32_t null_node = kNoNode;  // literal null
};

enum class State : uint8_t {
  kThread,      // marks the start of one alternative parse (thread)
  kDocument,    // bottom of every thread; on top once the root value is done
  kValueStart,  // a value of `node` starts here (whitespace first allowed)
  kObjOpen,     // after '{'
  kObjAfterKey,
  kObjInValue,
  kObjAfterValue,
  kObjAfterComma,
  kArrOpen,  // after '['
  kArrInValue,
  kArrAfterValue,
  kKey,      // key of an object with listed properties (node = the object's)
  kFreeKey,  // key of an object without listed properties: any string
  kString,
  kNumber,
  kLiteral,
};

// UTF-8 continuation states: how many bytes are still due and the range of
// the next one (the first continuation byte after E0, ED, F0, F4 is narrower).
enum Utf8 : uint8_t { kU8None, kU8Need1, kU8Need2, kU8Need2E0, kU8Need2ED, kU8Need3, kU8Need3F0, kU8Need3F4 };

struct StringScan {
  uint32_t count;     // code points so far
  int32_t dfa_state;  // pattern/format automaton state
  uint16_t unit;      // \u escape code unit being read
  uint8_t utf8;       // Utf8
  uint8_t esc;        // escape state, see matcher.cpp
};
struct KeyScan {  // listed keys: a range of Node::sorted_keys plus "some other key"
  uint32_t lo, hi, pos;
  uint8_t utf8;
  uint8_t other;  // the key may still become an additional (unlisted) key
};
struct LiteralScan {  // a range of Node::literals sharing the first `pos` bytes
  uint32_t lo, hi, pos;
};
struct NumberScan {
  // Magnitude so far = mantissa * 10^scale, kept in decimal so that "0.3"
  // becomes the same double a JSON parser reads (digits past the 19th are
  // dropped from the fraction; they move no bound check that matters).
  uint64_t mantissa;
  int8_t scale;
  uint8_t mantissa_digits;
  uint8_t part;  // NumPart, see scanners.cpp
  uint8_t negative;
  uint8_t int_digits, frac_digits, exp_digits;
  uint8_t leading_zero;
};
struct ContainerScan {
  uint32_t pos;     // objects: next property index; arrays: items so far
  uint32_t member;  // objects: node of the current member's value
};

// One entry of a thread's stack. Trivially copyable; every byte is
// initialized (see make_frame) so that equal states compare equal with memcmp.
struct Frame {
  uint32_t node;
  State state;
  uint8_t ws;     // whitespace bytes in the current run
  uint8_t depth;  // open containers at and below this frame
  uint8_t unused;
  union {
    StringScan str;
    KeyScan key;
    LiteralScan lit;
    NumberScan num;
    ContainerScan box;
  } u;
};

// Copied for every byte the token filter tries: keep it small.
static_assert(sizeof(Frame) == 24);

inline Frame make_frame(State state, uint32_t node, uint8_t depth) {
  Frame f;
  std::memset(&f, 0, sizeof f);
  f.state = state;
  f.node = node;
  f.depth = depth;
  return f;
}

// Turns `f` into a fresh frame of another state, keeping node and depth.
inline void reset_frame(Frame& f, State state) { f = make_frame(state, f.node, f.depth); }

// JsonGrammar::from_schema's work: schema_compiler.cpp.
Result<Program> compile_schema(const boost::json::value& schema);

// Starts the state of a document of `program`.
void start(const Program& program, std::vector<Frame>& frames);
// Feeds one byte. False: the byte makes the text an invalid prefix, and
// `frames` is left unspecified. `scratch` is working space.
bool step(const Program& program, std::vector<Frame>& frames, std::vector<Frame>& scratch, uint8_t byte);
// Whether the text so far is a whole document.
bool is_complete(const Program& program, const std::vector<Frame>& frames);
// Whether some number of `node` can start (its bounds leave room).
bool number_can_start(const Node& node);

// validate_json() of a sub-schema whose $refs point into `root`.
Status validate_in(const boost::json::value& doc, const boost::json::value& schema,
                   const boost::json::value& root, const std::string& schema_path);

}  // namespace gs::grammar
