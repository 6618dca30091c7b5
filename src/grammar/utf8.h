// UTF-8 helpers for schema text (keys, enum strings, patterns).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gs::grammar {

// Strict decoding: no overlong forms, surrogates or values above U+10FFFF.
bool decode_utf8(std::string_view text, std::vector<uint32_t>* out);
bool is_valid_utf8(std::string_view text);
// Code points in valid UTF-8 text (JSON Schema's string length).
size_t utf8_length(std::string_view text);
void append_utf8(uint32_t cp, std::string& out);

}  // namespace gs::grammar
