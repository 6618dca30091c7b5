#include "http/response.h"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

#include "core/ascii.h"
#include "http/api_error.h"

namespace gs::http {
namespace {

void scrub(std::string& text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
}

// Formatted once per second per thread: every response carries it.
std::string_view http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local char text[64] = {};
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_at = now;
  }
  return text;
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

bool status_allows_body(int status) { return status >= 200 && status != 204 && status != 304; }

bool sanitize_headers(Headers& headers) {
  bool close = false;
  size_t kept = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    auto& [name, value] = headers[i];
    if (ascii_iequals(name, "connection")) {
      close = close || ascii_iequals(value, "close");
      continue;
    }
    if (ascii_iequals(name, "content-length") || ascii_iequals(name, "transfer-encoding") || name.empty())
      continue;
    scrub(name);
    scrub(value);
    if (kept != i) headers[kept] = std::move(headers[i]);
    ++kept;
  }
  headers.resize(kept);
  return close;
}

std::string format_head(const Head& head) {
  // Plain appends: a head is written for every response, and fmt's back_inserter goes a
  // character at a time.
  std::string out;
  out.reserve(256);
  auto line = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  char number[24];
  auto decimal = [&number](auto n) {
    return std::string_view(number, std::to_chars(number, number + sizeof number, n).ptr - number);
  };
  out.append("HTTP/1.1 ")
      .append(decimal(head.status))
      .append(" ")
      .append(reason_phrase(head.status))
      .append("\r\n");
  bool has_date = false;
  if (head.extra) {
    for (const auto& [name, value] : *head.extra) has_date = has_date || ascii_iequals(name, "date");
  }
  if (!has_date) line("Date", http_date());
  if (!head.content_type.empty()) {
    std::string type(head.content_type);
    scrub(type);
    line("Content-Type", type);
  }
  if (head.content_length) line("Content-Length", decimal(*head.content_length));
  if (head.chunked) out += "Transfer-Encoding: chunked\r\n";
  if (!head.connection.empty()) line("Connection", head.connection);
  if (head.extra) {
    for (const auto& [name, value] : *head.extra) line(name, value);
  }
  out += "\r\n";
  return out;
}

std::string error_response(int status, std::string_view message, bool head_only) {
  const std::string body = error_body({.status = status,
                                       .message = std::string(message),
                                       .type = status >= 500 ? "server_error" : "invalid_request_error"});
  Head head;
  head.status = status;
  head.content_type = "application/json";
  head.content_length = body.size();
  head.connection = "close";
  std::string out = format_head(head);
  if (!head_only) out += body;
  return out;
}

std::string chunk_prefix(size_t n) { return fmt::format("{:x}\r\n", n); }

}  // namespace gs::http
