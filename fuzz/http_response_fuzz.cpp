// libFuzzer target for the gateway's reading of an upstream's answer:
// http::ResponseParser over any bytes, fed once whole and once in reads of
// 1 to 16 bytes (the first input byte picks the size, and its top bit asks
// for the answer to a HEAD). Both feedings must agree on everything: error or
// not, status, keep-alive, body, done; an error is one line; the body is never
// longer than the input; finish() settles whatever is left without a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/response_parser.h"

namespace {

using gs::http::ResponseParser;

void check(bool condition) {
  if (!condition) std::abort();
}

std::string run(std::string_view input, size_t step, bool head_request) {
  ResponseParser parser(head_request, 1024);
  std::string buffer, body, error;
  for (size_t fed = 0; fed < input.size() && error.empty(); fed += step) {
    buffer.append(input.substr(fed, step));
    auto used = parser.feed(buffer, body);
    if (!used.ok()) {
      error = used.error();
      check(!error.empty() && error.find('\n') == std::string::npos);
      break;
    }
    check(*used <= buffer.size());
    buffer.erase(0, *used);
  }
  check(body.size() <= input.size());
  if (parser.head_done()) check(parser.status() >= 200 && parser.status() <= 999);
  std::string log = error.empty() ? "ok" : "error";
  log += ' ' + std::to_string(parser.status()) + ' ' + (parser.keep_alive() ? "keep" : "close") + ' ' +
         (parser.done() ? "done" : "open") + ' ' + body;
  if (error.empty()) {
    const auto finished = parser.finish();
    check(finished.ok() || finished.message().find('\n') == std::string::npos);
    log += finished.ok() ? " finished" : " cut";
  }
  return log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t step = 1 + (data[0] & 0x0F);
  const bool head_request = (data[0] & 0x80) != 0;
  check(run(input, input.size() + 1, head_request) == run(input, step, head_request));
  return 0;
}
