// Strict UTF-8 (no overlong forms, surrogates or values above U+10FFFF), for
// text from clients and schemas: validation, decoding, lengths, and
// replacing what is not UTF-8 before it goes into JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gs {

// Length of the character starting at text[pos] and its code point; 0 when
// the bytes there are not a valid character.
size_t decode_utf8_char(std::string_view text, size_t pos, uint32_t* cp);
bool decode_utf8(std::string_view text, std::vector<uint32_t>* out);
bool is_valid_utf8(std::string_view text);
// Code points in valid UTF-8 text (JSON Schema's string length).
size_t utf8_length(std::string_view text);
void append_utf8(uint32_t cp, std::string& out);
// `bytes` with each byte that does not start a valid character replaced by
// U+FFFD (a token can hold part of a character; JSON must not).
std::string sanitize_utf8(std::string_view bytes);

}  // namespace gs
