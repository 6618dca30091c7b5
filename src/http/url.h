// Request-target parsing: path and query of an HTTP request target,
// percent-decoded. Hand-written over untrusted bytes, hence fuzzed
// (fuzz/http_request_fuzz.cpp).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gs::http {

// Decodes %XX escapes (either hex case); with plus_is_space, '+' becomes ' ' as in
// application/x-www-form-urlencoded query strings. Fails on a '%' not followed by two hex digits.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Escapes every byte except unreserved ones (A-Z a-z 0-9 - . _ ~) and, with keep_slash, '/'.
// percent_decode(percent_encode(s, k), false) == s for every s.
std::string percent_encode(std::string_view text, bool keep_slash);

struct Target {
  std::string path;                                        // decoded, starts with '/' (or is "*")
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
};

// Accepts origin form ("/a/b?x=1"), absolute form ("http://host:8080/a?x=1"; the path is "/"
// when absent) and "*" (OPTIONS). A fragment ("#...") is dropped. Fails on anything else, on
// bad percent-escapes and on a path that decodes to a NUL byte.
Result<Target> parse_target(std::string_view target);

}  // namespace gs::http
