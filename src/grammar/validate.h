// Checks a JSON document against a JSON Schema, for the subset that
// JsonGrammar supports (docs/STRUCTURED_OUTPUT.md). The server can check
// outputs that were not constrained, and tests check that constrained ones
// are valid.
#pragma once

#include <boost/json.hpp>

#include "core/status.h"

namespace gs {

// JSON Schema's meaning, not the grammar's narrower one: properties in any
// order, other properties allowed unless additionalProperties says no,
// any whitespace. Two deliberate differences: oneOf is checked as anyOf (as
// the grammar generates it), and the formats the grammar enforces (date,
// time, date-time, uuid, email, ipv4) are checked rather than only
// annotations. Error: the first violation, naming where in the document
// (JSON pointer) it is, or the unsupported keyword or invalid schema part.
Status validate_json(const boost::json::value& doc, const boost::json::value& schema);

}  // namespace gs
