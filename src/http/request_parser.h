// Incremental HTTP/1.1 request parsing with the server's limits: bytes in, a
// Request or a protocol error (with its status) out. Our own parser, read top
// to bottom in request_parser.cpp: the head is parsed once its blank line is
// there (so the outcome depends on the bytes alone, not on how they were
// split), the body is taken as it arrives. No sockets, so the fuzz target
// drives exactly what connections run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/server.h"

namespace gs::http {

class RequestParser {
 public:
  RequestParser(size_t max_header_bytes, size_t max_body_bytes);

  struct Outcome {
    enum class Kind { kNeedMore, kRequest, kError };
    Kind kind = Kind::kNeedMore;
    size_t consumed = 0;  // bytes of the input used, in every case
    Request request;      // kRequest (remote_address left empty)
    bool keep_alive = false;
    int error_status = 0;  // kError
    std::string error_message;
  };

  // `data` holds the bytes received and not yet consumed. After kNeedMore, call again with the
  // unconsumed rest plus new bytes. After kRequest the parser is ready for the next request;
  // after kError it must not be used again (the connection closes).
  Outcome parse(std::string_view data);

  // The head of a request was consumed and its body is not complete yet.
  bool in_progress() const;
  // The head is complete, carries "Expect: 100-continue" and the body is still due; true once
  // per request (the caller then sends "100 Continue").
  bool take_expect_continue();

 private:
  enum class State { kHead, kBody, kChunkSize, kChunkData, kChunkEnd, kTrailer };

  // Parses the request line and header fields (each line ending in CRLF, the blank line
  // excluded). Empty on success, else the 400 message.
  std::string read_head(std::string_view head);
  Outcome complete(size_t consumed);

  size_t max_header_bytes_;
  size_t max_body_bytes_;
  State state_ = State::kHead;
  size_t eom_scanned_ = 0;  // the unconsumed bytes before this hold no "\r\n\r\n"
  Request request_;         // the one being read
  bool keep_alive_ = false;
  bool expect_continue_ = false;
  uint64_t remaining_ = 0;    // body bytes still due: Content-Length's, or the current chunk's
  size_t trailer_bytes_ = 0;  // of a chunked body's trailer section, against max_header_bytes
};

}  // namespace gs::http
