#include "http/request_parser.h"

#include <fmt/format.h>

#include "core/ascii.h"
#include "http/field_syntax.h"
#include "http/url.h"

namespace gs::http {

namespace {

RequestParser::Outcome need_more(size_t consumed) {
  RequestParser::Outcome out;
  out.consumed = consumed;
  return out;
}

RequestParser::Outcome error(size_t consumed, int status, std::string message) {
  RequestParser::Outcome out;
  out.kind = RequestParser::Outcome::Kind::kError;
  out.consumed = consumed;
  out.error_status = status;
  out.error_message = std::move(message);
  return out;
}

RequestParser::Outcome too_large(size_t consumed, int status, std::string_view what, size_t limit) {
  return error(consumed, status, fmt::format("{} larger than the limit of {} bytes", what, limit));
}

RequestParser::Outcome malformed(size_t consumed, std::string_view what) {
  return error(consumed, 400, fmt::format("malformed HTTP request: {}", what));
}

// A field value's characters: visible ASCII, space, tab and obs-text (bytes of UTF-8).
// Bitwise, without a branch per character, so that the compiler vectorizes it.
bool is_field_value(std::string_view value) {
  unsigned bad = 0;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    bad |= static_cast<unsigned>(u < 0x20) & static_cast<unsigned>(u != '\t');
    bad |= static_cast<unsigned>(u == 0x7f);
  }
  return bad == 0;
}

// A request target's characters: visible ASCII and obs-text, no space or control.
bool is_target(std::string_view target) {
  unsigned bad = target.empty() ? 1 : 0;
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    bad |= static_cast<unsigned>(u <= 0x20) | static_cast<unsigned>(u == 0x7f);
  }
  return bad == 0;
}

// The line at the front of `text` (ended by CRLF, which every line of a head passed in has).
std::string_view take_line(std::string_view& text) {
  const size_t eol = text.find("\r\n");
  const std::string_view line = text.substr(0, eol);
  text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 2);
  return line;
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (ascii_iequals(key, name)) return value;
  }
  return {};
}

std::string_view Request::query_param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return {};
}

RequestParser::RequestParser(size_t max_header_bytes, size_t max_body_bytes)
    : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {}

bool RequestParser::in_progress() const { return state_ != State::kHead; }

bool RequestParser::take_expect_continue() {
  if (!expect_continue_ || state_ == State::kHead) return false;
  expect_continue_ = false;
  return true;
}

RequestParser::Outcome RequestParser::parse(std::string_view data) {
  size_t consumed = 0;
  while (true) {
    std::string_view rest = data.substr(consumed);
    switch (state_) {
      case State::kHead: {
        // Empty lines before a request line are ignored (RFC 9112, 2.2).
        while (rest.starts_with("\r\n")) {
          rest.remove_prefix(2);
          consumed += 2;
        }
        const size_t end = rest.find("\r\n\r\n", eom_scanned_);
        const size_t head_bytes = end == std::string_view::npos ? rest.size() : end + 4;
        if (head_bytes > max_header_bytes_) {
          return too_large(consumed, 431, "request line and headers are", max_header_bytes_);
        }
        if (end == std::string_view::npos) {
          // Where the next search starts, so a head trickling in is scanned once.
          eom_scanned_ = rest.size() < 3 ? 0 : rest.size() - 3;
          return need_more(consumed);
        }
        eom_scanned_ = 0;
        if (std::string why = read_head(rest.substr(0, end + 2)); !why.empty()) {
          return malformed(consumed, why);
        }
        consumed += end + 4;
        if (state_ == State::kHead) return complete(consumed);
        if (state_ == State::kBody && remaining_ > max_body_bytes_) {
          return too_large(consumed, 413, "request body is", max_body_bytes_);
        }
        break;
      }
      case State::kBody:
      case State::kChunkData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        request_.body.append(rest.data(), take);
        consumed += take;
        remaining_ -= take;
        if (remaining_ > 0) return need_more(consumed);
        if (state_ == State::kBody) return complete(consumed);
        state_ = State::kChunkEnd;
        break;
      }
      case State::kChunkEnd:
        if (rest.size() < 2) return need_more(consumed);
        if (!rest.starts_with("\r\n")) return malformed(consumed, "chunk not followed by CRLF");
        consumed += 2;
        state_ = State::kChunkSize;
        break;
      case State::kChunkSize: {
        const size_t eol = rest.find("\r\n");
        if (std::min(eol, rest.size()) > kMaxChunkLine)
          return malformed(consumed, "chunk size line too long");
        if (eol == std::string_view::npos) return need_more(consumed);
        const std::string_view line = rest.substr(0, eol);
        const std::optional<uint64_t> size = parse_chunk_size(line);
        if (!size || !is_field_value(line)) return malformed(consumed, "bad chunk size");
        consumed += eol + 2;
        if (*size > max_body_bytes_ - request_.body.size()) {
          return too_large(consumed, 413, "request body is", max_body_bytes_);
        }
        remaining_ = *size;
        state_ = *size == 0 ? State::kTrailer : State::kChunkData;
        break;
      }
      case State::kTrailer: {
        // Trailer fields are read past, not kept; they count against the header limit.
        const size_t eol = rest.find("\r\n");
        const size_t line_bytes = eol == std::string_view::npos ? rest.size() : eol + 2;
        if (trailer_bytes_ + line_bytes > max_header_bytes_) {
          return too_large(consumed, 431, "trailer fields are", max_header_bytes_);
        }
        if (eol == std::string_view::npos) return need_more(consumed);
        const std::string_view line = rest.substr(0, eol);
        consumed += line_bytes;
        trailer_bytes_ += line_bytes;
        if (line.empty()) return complete(consumed);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon)) ||
            !is_field_value(line.substr(colon + 1))) {
          return malformed(consumed, "bad trailer field");
        }
        break;
      }
    }
  }
}

std::string RequestParser::read_head(std::string_view head) {
  // request-line = method SP request-target SP HTTP-version
  const std::string_view line = take_line(head);
  const size_t first_space = line.find(' ');
  const size_t second_space =
      first_space == std::string_view::npos ? first_space : line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return "bad request line";
  const std::string_view method = line.substr(0, first_space);
  const std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = line.substr(second_space + 1);
  if (!is_token(method)) return "bad method";
  if (!is_target(target)) return "bad request target";
  if (version == "HTTP/1.1") {
    request_.version = 11;
  } else if (version == "HTTP/1.0") {
    request_.version = 10;
  } else {
    return "bad HTTP version (1.0 and 1.1 are served)";
  }
  auto decoded = parse_target(target);
  if (!decoded.ok()) return decoded.error();

  std::string_view content_length;
  std::string_view connection;
  bool chunked = false;
  bool transfer_encoding = false;
  request_.headers.reserve(
      8);  // 512 bytes: below malloc's large requests (1 KiB), which consolidate its fast bins
  while (!head.empty()) {
    const std::string_view field = take_line(head);
    const size_t colon = field.find(':');
    // No space before the colon, no line folding (RFC 9112, 5.1 and 5.2).
    if (colon == std::string_view::npos || !is_token(field.substr(0, colon))) return "bad header field";
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = trim(field.substr(colon + 1));
    if (!is_field_value(value)) return "bad header field value";
    if (ascii_iequals(name, "content-length")) {
      if (!parse_unsigned(value)) return "bad Content-Length";
      if (!content_length.empty() && content_length != value) return "conflicting Content-Length headers";
      content_length = value;
    } else if (ascii_iequals(name, "transfer-encoding")) {
      // Chunked must be the last coding; the codings before it are not undone.
      const size_t comma = value.rfind(',');
      chunked =
          ascii_iequals(trim(comma == std::string_view::npos ? value : value.substr(comma + 1)), "chunked");
      transfer_encoding = true;
    } else if (ascii_iequals(name, "connection")) {
      connection = value;
    } else if (ascii_iequals(name, "expect")) {
      expect_continue_ = request_.version >= 11 && ascii_iequals(value, "100-continue");
    }
    request_.headers.emplace_back(name, value);
  }
  // Both framings would let a proxy in front of us and this server split the bytes
  // differently (request smuggling), so neither is guessed.
  if (transfer_encoding && !content_length.empty()) return "both Transfer-Encoding and Content-Length";
  if (transfer_encoding && !chunked) return "a Transfer-Encoding other than chunked";

  request_.method = std::string(method);
  request_.target = std::string(target);
  request_.path = std::move(decoded->path);
  request_.query = std::move(decoded->query);
  keep_alive_ =
      request_.version == 11 ? !has_token(connection, "close") : has_token(connection, "keep-alive");
  const uint64_t length = content_length.empty() ? 0 : *parse_unsigned(content_length);
  if (chunked) {
    state_ = State::kChunkSize;
  } else if (length > 0) {
    state_ = State::kBody;
    remaining_ = length;
  }
  return "";
}

RequestParser::Outcome RequestParser::complete(size_t consumed) {
  Outcome out;
  out.kind = Outcome::Kind::kRequest;
  out.consumed = consumed;
  out.keep_alive = keep_alive_;
  out.request = std::move(request_);
  request_ = Request{};
  state_ = State::kHead;
  expect_continue_ = false;
  remaining_ = 0;
  trailer_bytes_ = 0;
  return out;
}

}  // namespace gs::http
