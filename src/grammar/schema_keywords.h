// What the grammar and the validator understand of JSON Schema: which
// keywords are supported, which would change validity but are not (an error
// naming the keyword), and the small parsers both need.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "core/status.h"

namespace gs::grammar {

// Keywords that constrain values and are supported.
bool is_supported_keyword(std::string_view key);
// Keywords that would change which values are valid but are not supported.
// Everything else (title, description, default, examples, $schema, $defs,
// unknown words...) is an annotation and ignored.
bool is_unsupported_keyword(std::string_view key);

// Fails, naming the keyword and where it is, when `schema` uses an unsupported one.
Status check_keywords(const boost::json::object& schema, std::string_view path);

// The target of a local reference ("#", "#/$defs/x", "#/definitions/x",
// any "#/..." JSON pointer) inside `root`.
Result<const boost::json::value*> resolve_ref(const boost::json::value& root, const boost::json::value& ref,
                                              std::string_view path);

// The `type` keyword as Node::types bits.
Result<uint8_t> parse_types(const boost::json::value& type, std::string_view path);
// The types a schema without `type` can only be about, judged by its
// type-specific keywords; all types if it has none.
uint8_t implied_types(const boost::json::object& schema);

// Regex (regex.h syntax) of a `format` that is enforced; empty for formats
// taken as annotations.
std::string_view format_pattern(std::string_view format);

// A non-negative integer keyword (minLength, maxItems, ...).
Result<uint32_t> count_keyword(const boost::json::object& schema, std::string_view key, std::string_view path,
                               uint32_t fallback);

struct NumberBounds {
  bool has_min = false, has_max = false, min_exclusive = false, max_exclusive = false;
  double minimum = 0, maximum = 0;
};
// minimum, maximum, exclusiveMinimum, exclusiveMaximum (draft 6+ numbers and
// draft 4 booleans), combined into the tightest bounds.
Result<NumberBounds> number_bounds(const boost::json::object& schema, std::string_view path);

// "path/key" for messages, with '~' and '/' escaped as in JSON pointers.
std::string child_path(std::string_view path, std::string_view key);

}  // namespace gs::grammar
