// UTF-8 text helpers for the template interpreter. Strings are UTF-8 bytes;
// lengths, indices and slices count code points as Python does. Invalid bytes
// count as one character each so that any input is handled.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gs::tmpl::text {

// Decodes the code point at s[i], storing its byte length in *len (>= 1).
char32_t decode(std::string_view s, size_t i, size_t* len);
void append_utf8(std::string* out, char32_t cp);

size_t char_count(std::string_view s);
// Byte offsets of every character start, plus s.size() at the end.
std::vector<size_t> char_offsets(std::string_view s);

// White space as JavaScript's String#trim and /\s/ see it (the template
// reference, @huggingface/jinja, trims with those).
bool is_space(char32_t cp);
std::string_view trim(std::string_view s, bool left, bool right);
// Python's str.strip(chars): strips any code point that occurs in `chars`.
std::string_view trim_chars(std::string_view s, std::string_view chars, bool left, bool right);

std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);
// Python's str.title() and str.capitalize() on ASCII letters.
std::string title(std::string_view s);
std::string capitalize(std::string_view s);

}  // namespace gs::tmpl::text
