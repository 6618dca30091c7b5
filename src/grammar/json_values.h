// JSON value helpers shared by the schema compiler and the validator:
// the one serialization the grammar emits for a fixed value (enum, const,
// property names) and JSON Schema's notion of equal values.
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace gs::grammar {

// Escapes exactly '"', '\\' and control characters (\b \f \n \r \t, else
// \u00xx with lowercase hex); everything else is copied. Expects valid UTF-8.
void append_string_content(std::string_view text, std::string& out);

// Compact serialization with the string escaping above; numbers as the
// shortest text that reads back the same. False if a string (or key) is not
// valid UTF-8: such a value cannot be written as JSON text.
bool append_canonical(const boost::json::value& value, std::string& out);

// Numbers compare by value across int64/uint64/double; objects ignore order.
bool json_equal(const boost::json::value& a, const boost::json::value& b);

// A number kind (int64, uint64, double) as a double.
double as_double(const boost::json::value& v);
// An integer value by JSON Schema's rules: any number with no fraction.
bool is_integer(const boost::json::value& v);

}  // namespace gs::grammar
