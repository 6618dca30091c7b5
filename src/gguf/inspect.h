// Human-readable and JSON descriptions of a GGUF file's header, for
// `genstack gguf inspect` and for debugging.
#pragma once

#include <string>

#include "gguf/gguf.h"

namespace gs::gguf {

// Version and counts, then one "key = value" line per metadata entry (long
// arrays abbreviated to "[N items] first few...", long strings cut), then,
// when `show_tensors`, one line per tensor: name, dims, type, offset, size.
std::string describe_gguf(const File& f, bool show_tensors);

// The same as a JSON document, every metadata value in full:
// {"version", "alignment", "data_offset", "file_size",
//  "metadata": {key: {"type", ["element_type",] "value"}},
//  "tensors": [{"name", "type", "dims", "offset", "size"}]}
std::string describe_gguf_json(const File& f);

// `s` as a JSON string literal; invalid UTF-8 bytes become U+FFFD.
void append_json_string(std::string& out, std::string_view s);

}  // namespace gs::gguf
