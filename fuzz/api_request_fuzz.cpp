// libFuzzer target for the API's request decoding: any bytes as a request
// body must give a parsed request or an OpenAI-style error (never a crash),
// through JSON parsing, the OpenAI and Ollama parameter readers and the
// keep-alive parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json.hpp>

#include "server/api_error.h"
#include "server/generation_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(bytes, ec);
  if (ec || !body.is_object()) return 0;
  for (bool chat : {true, false}) {
    gs::server::OpenAiParams params;
    if (auto error = gs::server::parse_openai_params(body.get_object(), chat, params)) {
      if (error->message.empty() || error->status < 400 || error->status > 499) std::abort();
      (void)gs::server::error_body(*error);
    } else if (params.n < 1 || params.n > 16) {
      std::abort();
    }
  }
  gs::server::OllamaParams ollama;
  if (auto error = gs::server::parse_ollama_params(body.get_object(), ollama))
    (void)gs::server::error_body(*error);
  if (const auto* keep = body.get_object().if_contains("keep_alive"))
    (void)gs::server::parse_keep_alive(*keep);
  return 0;
}
