// Constrained decoding for OpenAI `response_format`: a grammar compiled from
// {"type":"json_object"} or a JSON Schema, and a per-sequence matcher that
// says byte by byte whether the text so far is still a valid prefix of a
// document the grammar accepts. TokenFilter (token_filter.h) turns that into
// a mask over a vocabulary. What is supported: docs/STRUCTURED_OUTPUT.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/status.h"

namespace gs {

namespace grammar {
struct Program;
struct Frame;
}  // namespace grammar

class JsonGrammar {  // compiled, immutable, shareable across sequences
 public:
  ~JsonGrammar();
  JsonGrammar(const JsonGrammar&) = delete;
  JsonGrammar& operator=(const JsonGrammar&) = delete;

  // response_format {"type":"json_object"}: any JSON object.
  static std::shared_ptr<const JsonGrammar> any_object();
  // response_format {"type":"json_schema","json_schema":{"schema":{...}}}: the `schema` value.
  // Unsupported keywords that would change validity fail with a message naming the keyword
  // and where it is; annotations (title, description, examples, $schema, default...) are ignored.
  static Result<std::shared_ptr<const JsonGrammar>> from_schema(const boost::json::value& schema);
  // The whole `response_format` object: json_object and json_schema as above;
  // {"type":"text"} gives nullptr (nothing to constrain).
  static Result<std::shared_ptr<const JsonGrammar>> from_response_format(const boost::json::value& format);

  const grammar::Program& program() const { return *program_; }

 private:
  explicit JsonGrammar(std::unique_ptr<grammar::Program> program);
  std::unique_ptr<grammar::Program> program_;
};

class JsonMatcher {  // per-sequence state; copyable and cheap to copy
 public:
  explicit JsonMatcher(std::shared_ptr<const JsonGrammar> grammar);
  ~JsonMatcher();
  JsonMatcher(const JsonMatcher& other);
  JsonMatcher& operator=(const JsonMatcher& other);
  JsonMatcher(JsonMatcher&& other) noexcept;
  JsonMatcher& operator=(JsonMatcher&& other) noexcept;

  // Consumes `bytes` if every byte keeps the text a valid prefix; otherwise
  // returns false and leaves the state unchanged.
  bool advance(std::string_view bytes);
  // The text so far is a whole valid document (ending here is allowed).
  bool complete() const;
  // Complete and nothing more may follow (after the root's closing brace not
  // even whitespace). A root number is complete but never finished.
  bool finished() const;
  // Whether some byte may still follow: false once finished, or where
  // nothing can continue (only for grammars that cannot be completed, which
  // from_schema refuses).
  bool can_continue() const;

  const JsonGrammar& grammar() const { return *grammar_; }

 private:
  friend class TokenFilter;
  std::shared_ptr<const JsonGrammar> grammar_;
  std::vector<grammar::Frame> frames_;
  // Working space for steps with several alternatives; not part of the state.
  mutable std::vector<grammar::Frame> scratch_;
};

}  // namespace gs
