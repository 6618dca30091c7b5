// Bytes of responses: heads, chunk framing, and the server's own JSON error
// responses (OpenAI-style bodies, which API clients know how to show).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/server.h"

namespace gs::http {

std::string_view reason_phrase(int status);
// 1xx, 204 and 304 responses carry neither a body nor Content-Length.
bool status_allows_body(int status);

// Removes the headers whose values the server owns (Content-Length, Transfer-Encoding,
// Connection) and replaces CR, LF and NUL by spaces so no header can split the response.
// Returns true when the caller asked for "Connection: close".
bool sanitize_headers(Headers& headers);

struct Head {
  int status = 200;
  std::string_view content_type;         // omitted when empty
  const Headers* extra = nullptr;        // sanitized
  std::optional<size_t> content_length;  // "Content-Length: N"
  bool chunked = false;                  // "Transfer-Encoding: chunked"
  std::string_view connection;           // "close", "keep-alive" or empty
};
// Status line, headers (Date unless given), blank line.
std::string format_head(const Head& head);

// A complete JSON error response that closes the connection.
std::string error_response(int status, std::string_view message, bool head_only = false);

// "1a2b\r\n" for a chunk of n bytes.
std::string chunk_prefix(size_t n);

}  // namespace gs::http
