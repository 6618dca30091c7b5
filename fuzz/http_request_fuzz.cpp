// libFuzzer target for what the HTTP server does with a client's bytes before
// any handler sees them: request parsing (src/http/request_parser.cpp, with
// its limits) and the request-target decoding of src/http/url.cpp. Any input
// must end in requests with a well-formed decoded target, or one error with a
// status the server sends and a one-line message; feeding the same bytes in
// pieces must give the same requests and the same error as feeding them whole
// (a head is parsed only once its blank line is there).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.h"
#include "http/url.h"

namespace {

using gs::http::RequestParser;
using Kind = RequestParser::Outcome::Kind;

constexpr size_t kMaxHeader = 2048;
constexpr size_t kMaxBody = 4096;

void check(bool condition) {
  if (!condition) std::abort();
}

// Every complete request, as one comparable string.
std::string run(std::string_view input, size_t step) {
  RequestParser parser(kMaxHeader, kMaxBody);
  std::string buffer;
  std::string log;
  size_t fed = 0;
  while (true) {
    const size_t take = std::min(step, input.size() - fed);
    buffer.append(input.substr(fed, take));
    fed += take;
    while (true) {
      auto outcome = parser.parse(buffer);
      check(outcome.consumed <= buffer.size());
      buffer.erase(0, outcome.consumed);
      if (outcome.kind == Kind::kNeedMore) break;
      if (outcome.kind == Kind::kError) {
        const int s = outcome.error_status;
        check(s == 400 || s == 413 || s == 431);
        check(!outcome.error_message.empty() && outcome.error_message.find('\n') == std::string::npos);
        return log + "error " + std::to_string(s) + '\n';
      }
      const gs::http::Request& r = outcome.request;
      check(!r.method.empty() && !r.target.empty());
      check(r.path == "*" || (!r.path.empty() && r.path[0] == '/'));
      check(r.path.find('\0') == std::string::npos);
      check(r.body.size() <= kMaxBody);
      check(r.version == 10 || r.version == 11);
      log += r.method + ' ' + r.target + ' ' + std::to_string(r.body.size()) + ' ' + r.body + '\n';
    }
    if (fed == input.size()) return log;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t step = 1 + data[0] % 16;
  const std::string whole = run(input, input.size() + 1);
  const std::string pieces = run(input, step);
  check(whole == pieces);

  // The target helpers on their own, over any bytes.
  auto target = gs::http::parse_target(input);
  if (target.ok()) check(target->path == "*" || (!target->path.empty() && target->path[0] == '/'));
  for (bool keep_slash : {false, true}) {
    auto decoded = gs::http::percent_decode(gs::http::percent_encode(input, keep_slash), false);
    check(decoded.ok() && *decoded == input);
  }
  return 0;
}
