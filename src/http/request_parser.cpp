#include "http/request_parser.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>

#include <fmt/format.h>
#include <boost/beast/http/error.hpp>

#include "core/ascii.h"
#include "http/url.h"

namespace gs::http {

namespace bhttp = boost::beast::http;

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
    : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {
  reset();
}

void RequestParser::reset() {
  parser_.emplace();
  // Our own check in parse() comes first; Beast's is only a backstop.
  parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(max_header_bytes_ + 1, UINT32_MAX)));
  parser_->body_limit(static_cast<uint64_t>(max_body_bytes_));
  parser_->eager(true);
  continue_taken_ = false;
  header_consumed_ = 0;
  eom_scanned_ = 0;
}

bool RequestParser::header_too_large(std::string_view data) {
  // Beast applies header_limit to the request line and to the fields separately, and only
  // while it waits for more bytes: a header up to twice the limit passes when it arrives in
  // one read but not in several. Measuring up to the blank line makes the answer depend on
  // the bytes alone.
  const size_t end = data.find("\r\n\r\n", eom_scanned_);
  const size_t header_bytes = end == std::string_view::npos ? data.size() : end + 4;
  // Where the next search starts, so a header trickling in is scanned once, not once per read.
  eom_scanned_ = end != std::string_view::npos ? end : data.size() < 3 ? 0 : data.size() - 3;
  return header_consumed_ + header_bytes > max_header_bytes_;
}

bool RequestParser::in_progress() const { return parser_->got_some() && !parser_->is_done(); }

bool RequestParser::take_expect_continue() {
  if (continue_taken_ || !parser_->is_header_done() || parser_->is_done()) return false;
  const auto& message = parser_->get();
  if (message.version() < 11 || !ascii_iequals(message[bhttp::field::expect], "100-continue")) return false;
  continue_taken_ = true;
  return true;
}

RequestParser::Outcome RequestParser::parse(std::string_view data) {
  size_t consumed = 0;
  const auto header_error = [&] {
    return error(
        consumed, 431,
        fmt::format("request line and headers are larger than the limit of {} bytes", max_header_bytes_));
  };
  // Beast reports allocation failure (a huge chunked body within the limit) by throwing.
  try {
    while (true) {
      boost::beast::error_code ec;
      const std::string_view rest = data.substr(consumed);
      if (rest.empty()) return need_more(consumed);
      const bool in_header = !parser_->is_header_done();
      if (in_header && header_too_large(rest)) return header_error();
      const size_t used = parser_->put(boost::asio::const_buffer(rest.data(), rest.size()), ec);
      consumed += used;
      if (in_header) {
        header_consumed_ += used;
        eom_scanned_ = eom_scanned_ > used ? eom_scanned_ - used : 0;
      }
      if (ec == bhttp::error::need_more) return need_more(consumed);
      if (ec == bhttp::error::body_limit) {
        return error(consumed, 413,
                     fmt::format("request body is larger than the limit of {} bytes", max_body_bytes_));
      }
      if (ec == bhttp::error::header_limit) return header_error();
      if (ec) return error(consumed, 400, fmt::format("malformed HTTP request: {}", ec.message()));
      if (parser_->is_done()) break;
    }
  } catch (const std::bad_alloc&) {
    return error(consumed, 413, "request too large for the server's memory");
  } catch (const std::exception& e) {
    return error(consumed, 400, fmt::format("malformed HTTP request: {}", e.what()));
  }

  bhttp::request<bhttp::string_body> message = parser_->release();
  reset();
  auto target = parse_target(message.target());
  if (!target.ok()) return error(consumed, 400, target.error());

  Outcome out;
  out.kind = Outcome::Kind::kRequest;
  out.consumed = consumed;
  out.keep_alive = message.keep_alive();
  Request& request = out.request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.path = std::move(target->path);
  request.query = std::move(target->query);
  request.version = message.version();
  request.headers.reserve(std::distance(message.begin(), message.end()));
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  return out;
}

}  // namespace gs::http
