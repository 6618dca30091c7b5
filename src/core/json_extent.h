// Where a JSON object or array written in some text ends, found without
// parsing it: bracket depth outside strings. For finding one value in a
// longer text (a tool call in generated output, the usage in an answer)
// before handing just that value to a real parser.
#pragma once

#include <cstddef>
#include <string_view>

namespace gs {

// End (exclusive) of the JSON object or array starting at s[start]; npos while
// it is still incomplete.
size_t json_extent(std::string_view s, size_t start);

}  // namespace gs
