// An HTTP/1.1 response parser for the client side (the gateway's upstream
// calls): the head, then the body with its framing taken off (Content-Length,
// chunked, or everything until the connection closes), fed incrementally as
// bytes arrive. The bytes come from another server, so nothing is trusted:
// the head and each chunk-size line are bounded, lengths are range-checked,
// and anything malformed is one error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gs::http {

class ResponseParser {
 public:
  // `head_request`: the answer to a HEAD has no body, whatever its head says.
  explicit ResponseParser(bool head_request = false, size_t max_head_bytes = 64 << 10)
      : head_request_(head_request), max_head_bytes_(max_head_bytes) {}
  ResponseParser(const ResponseParser&) = delete;  // headers_ points into head_
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Parses from the front of `in`; appends body bytes to `body` and returns
  // how many bytes of `in` it used (the caller drops them and feeds the rest
  // again with more). Interim 1xx heads are skipped.
  Result<size_t> feed(std::string_view in, std::string& body);
  // The connection ended: fine only where the body runs until the close.
  Status finish();

  bool head_done() const { return state_ > State::kHead; }
  bool done() const { return state_ == State::kDone; }
  int status() const { return status_; }
  // The first header of that name (any case), "" when absent.
  std::string_view header(std::string_view name) const;
  // Whether the connection may carry another request after this answer.
  bool keep_alive() const { return keep_alive_; }

 private:
  enum class State { kHead, kLength, kChunkSize, kChunkData, kChunkEnd, kTrailers, kUntilClose, kDone };
  Result<size_t> parse_head(std::string_view in);
  Status read_head_fields(std::string_view head);
  Status choose_framing();
  Result<size_t> feed_body(std::string_view in, std::string& body);

  bool head_request_;
  size_t max_head_bytes_;
  State state_ = State::kHead;
  int status_ = 0;
  int version_ = 11;
  bool keep_alive_ = false;
  uint64_t remaining_ = 0;  // of the body (kLength) or of the chunk (kChunkData)
  std::string head_;        // the header lines of the last head; headers_ points into it
  std::vector<std::pair<std::string_view, std::string_view>> headers_;
};

}  // namespace gs::http
