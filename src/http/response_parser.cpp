#include "http/response_parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "core/ascii.h"
#include "http/field_syntax.h"

namespace gs::http {
namespace {

constexpr size_t kMaxTrailerLine = 16 << 10;

// The CRLF-ended line at the front of `rest`, without its CRLF; nullopt while it has not
// ended. Fails once it is longer than `limit`.
Result<std::optional<std::string_view>> next_line(std::string_view rest, size_t limit,
                                                  std::string_view what) {
  const size_t eol = rest.find("\r\n");
  if (std::min(eol, rest.size()) > limit) return Error("{} too long in the response body", what);
  if (eol == std::string_view::npos) return std::optional<std::string_view>();
  return std::optional<std::string_view>(rest.substr(0, eol));
}

}  // namespace

std::string_view ResponseParser::header(std::string_view name) const {
  for (const auto& [n, v] : headers_) {
    if (ascii_iequals(n, name)) return v;
  }
  return {};
}

Result<size_t> ResponseParser::feed(std::string_view in, std::string& body) {
  size_t used = 0;
  while (state_ == State::kHead) {
    GS_ASSIGN_OR_RETURN(size_t n, parse_head(in.substr(used)));
    if (n == 0) return used;
    used += n;
  }
  GS_ASSIGN_OR_RETURN(size_t n, feed_body(in.substr(used), body));
  return used + n;
}

Result<size_t> ResponseParser::parse_head(std::string_view in) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() > max_head_bytes_) return Error("response head longer than {} bytes", max_head_bytes_);
    return size_t{0};
  }
  if (end + 4 > max_head_bytes_) return Error("response head longer than {} bytes", max_head_bytes_);
  const std::string_view head = in.substr(0, end + 2);  // each line ends in CRLF
  const size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // HTTP/1.x NNN[ reason]
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") ||
      (status_line[7] != '0' && status_line[7] != '1') || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return Error("malformed response status line");
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (status_line[i] < '0' || status_line[i] > '9') return Error("malformed response status line");
    status = status * 10 + (status_line[i] - '0');
  }
  if (status < 100) return Error("response status {} out of range", status);
  status_ = status;
  version_ = status_line[7] == '1' ? 11 : 10;
  headers_.clear();
  headers_.reserve(16);  // one allocation for a usual head, not one per doubling
  head_.assign(head.substr(line_end + 2));
  GS_RETURN_IF_ERROR(read_head_fields(head_));
  if (status_ >= 100 && status_ < 200) {
    if (status_ == 101) return Error("upstream switched protocols");
    return end + 4;  // interim answer: the real head follows
  }
  GS_RETURN_IF_ERROR(choose_framing());
  return end + 4;
}

Status ResponseParser::read_head_fields(std::string_view fields) {
  while (!fields.empty()) {
    const size_t eol = fields.find("\r\n");
    const std::string_view line = fields.substr(0, eol);
    fields.remove_prefix(eol + 2);
    const size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return Error("malformed response header line");
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return Error("malformed response header name");
    const std::string_view value = trim(line.substr(colon + 1));
    unsigned bad = 0;  // bitwise, without a branch per character: vectorized
    for (char c : value) bad |= static_cast<unsigned>(c == '\r') | (c == '\n') | (c == '\0');
    if (bad != 0) return Error("malformed response header value");
    headers_.emplace_back(name, value);
  }
  return Status::Ok();
}

Status ResponseParser::choose_framing() {
  const std::string_view connection = header("connection");
  keep_alive_ = version_ == 11 ? !has_token(connection, "close") : has_token(connection, "keep-alive");
  if (head_request_ || status_ == 204 || status_ == 304) {
    state_ = State::kDone;
    return Status::Ok();
  }
  std::string_view transfer_encoding;
  std::string_view length;
  for (const auto& [name, value] : headers_) {
    if (ascii_iequals(name, "transfer-encoding")) {
      if (!transfer_encoding.empty()) return Error("several Transfer-Encoding headers in a response");
      transfer_encoding = value;
    } else if (ascii_iequals(name, "content-length")) {
      if (!length.empty() && length != value)
        return Error("conflicting Content-Length headers in a response");
      length = value;
    }
  }
  if (!transfer_encoding.empty()) {
    // Chunked must be the last coding; a body with any other framing runs until the close.
    const size_t last_comma = transfer_encoding.rfind(',');
    const std::string_view last = trim(
        last_comma == std::string_view::npos ? transfer_encoding : transfer_encoding.substr(last_comma + 1));
    if (ascii_iequals(last, "chunked")) {
      state_ = State::kChunkSize;
    } else {
      state_ = State::kUntilClose;
      keep_alive_ = false;
    }
    if (!length.empty()) keep_alive_ = false;  // both framings: a smuggling attempt or a broken server
    return Status::Ok();
  }
  if (!length.empty()) {
    const std::optional<uint64_t> n = parse_unsigned(length);
    if (!n) return Error("malformed response Content-Length");
    remaining_ = *n;
    state_ = *n == 0 ? State::kDone : State::kLength;
    return Status::Ok();
  }
  state_ = State::kUntilClose;
  keep_alive_ = false;
  return Status::Ok();
}

Result<size_t> ResponseParser::feed_body(std::string_view in, std::string& body) {
  size_t used = 0;
  for (;;) {
    const std::string_view rest = in.substr(used);
    switch (state_) {
      case State::kHead:
      case State::kDone:
        return used;
      case State::kUntilClose:
        body.append(rest);
        return in.size();
      case State::kLength:
      case State::kChunkData: {
        if (rest.empty()) return used;
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        body.append(rest.substr(0, take));
        used += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = state_ == State::kLength ? State::kDone : State::kChunkEnd;
        break;
      }
      case State::kChunkEnd:
        if (rest.size() < 2) return used;
        if (!rest.starts_with("\r\n")) return Error("malformed chunk in the response body");
        used += 2;
        state_ = State::kChunkSize;
        break;
      case State::kChunkSize: {
        GS_ASSIGN_OR_RETURN(auto found, next_line(rest, kMaxChunkLine, "chunk size line"));
        if (!found) return used;
        const std::string_view line = *found;
        const std::optional<uint64_t> n = parse_chunk_size(line);
        if (!n) return Error("malformed chunk size in the response body");
        used += line.size() + 2;
        remaining_ = *n;
        state_ = *n == 0 ? State::kTrailers : State::kChunkData;
        break;
      }
      case State::kTrailers: {
        // Trailer fields are read past, not kept; an empty line ends the body.
        GS_ASSIGN_OR_RETURN(auto found, next_line(rest, kMaxTrailerLine, "trailer line"));
        if (!found) return used;
        used += found->size() + 2;
        if (found->empty()) state_ = State::kDone;
        break;
      }
    }
  }
}

Status ResponseParser::finish() {
  if (state_ == State::kUntilClose) {
    state_ = State::kDone;
    return Status::Ok();
  }
  if (state_ == State::kDone) return Status::Ok();
  if (state_ == State::kHead) return Error("connection closed before a response");
  return Error("connection closed mid-answer");
}

}  // namespace gs::http
