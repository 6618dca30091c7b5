// Request JSON -> what the scheduler runs: sampling, limits, stop strings,
// logprobs, structured output, priority. OpenAI and Ollama name the same
// knobs differently and default them differently.
#pragma once

#include <optional>

#include <boost/json.hpp>

#include "engine/request.h"
#include "server/api_error.h"
#include "server/fields.h"

namespace gs::server {

struct OpenAiParams {
  GenerationRequest request;  // everything but the prompt
  int32_t n = 1;
  bool stream = false;
  bool include_usage = false;
};

// chat: /v1/chat/completions (logprobs bool + top_logprobs); else
// /v1/completions (logprobs integer).
std::optional<ApiError> parse_openai_params(const boost::json::object& body, bool chat, OpenAiParams& out);

// Ollama's "options" object, "format" and "stream" (default true).
struct OllamaParams {
  GenerationRequest request;
  bool stream = true;
  std::optional<int64_t> num_ctx;
  std::optional<std::chrono::milliseconds> keep_alive;
};
std::optional<ApiError> parse_ollama_params(const boost::json::object& body, OllamaParams& out);

// Ollama's keep_alive: a duration string ("5m", "30s", "1h", "-1") or seconds.
std::optional<std::chrono::milliseconds> parse_keep_alive(const boost::json::value& value);

}  // namespace gs::server
