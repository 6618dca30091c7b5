// Incremental request parsing with the server's limits: bytes in, a Request
// or a protocol error (with its status) out. Boost.Beast parses the message;
// this adds the target decoding and maps Beast's errors to 400/413/431.
// No sockets, so the fuzz target drives exactly what connections run.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// With ASan, GCC 12 inlines Beast's boost::optional<uint64_t> content length and
// then warns that an empty optional's storage "may be used uninitialized".
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#pragma GCC diagnostic pop

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

  // Some bytes of a request were consumed and it is not complete yet.
  bool in_progress() const;
  // The headers are complete, carry "Expect: 100-continue" and the body is still due; true once
  // per request (the caller then sends "100 Continue").
  bool take_expect_continue();

 private:
  void reset();
  bool header_too_large(std::string_view data);

  size_t max_header_bytes_;
  size_t max_body_bytes_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool continue_taken_ = false;
  size_t header_consumed_ = 0;  // bytes of this request's header Beast has consumed so far
  size_t eom_scanned_ = 0;      // the unconsumed bytes before this hold no "\r\n\r\n"
};

}  // namespace gs::http
