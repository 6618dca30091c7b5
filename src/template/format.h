// Values as text: what {{ }} prints, what `~` and `string` make of a value,
// tojson, and JSON context -> values. Text forms follow @huggingface/jinja
// (the chat-template reference): none and undefined print nothing, booleans
// print as true/false, floats as 1.0 / 0.5, and lists and dicts as compact
// JSON with ", " and ": " separators.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "template/value.h"

namespace gs::tmpl {

struct JsonStyle {
  int indent = -1;  // < 0: one line
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_separator;  // default ", " (or "," when indenting)
  std::string key_separator = ": ";
  bool undefined_as_null = true;  // tojson says null; printing a list says undefined
};

// Appends the text of `v` to *out; errors once *out would pass `limit` bytes
// or nesting passes `max_depth`.
Status append_output(const Value& v, std::string* out, size_t limit, int max_depth = 256);
// Like append_output, but none reads "None" (Python's str) where output prints nothing.
Status append_string(const Value& v, std::string* out, size_t limit, int max_depth = 256);
Result<std::string> to_string(const Value& v, size_t limit);

Status append_json(const Value& v, const JsonStyle& style, std::string* out, size_t limit,
                   int max_depth = 256);

// JSON -> value. Integral JSON numbers become ints, as they do when
// JavaScript parses the same JSON (1.0 and 1 are one number there).
Result<Value> from_json(const boost::json::value& json, int max_depth = 256);

}  // namespace gs::tmpl
