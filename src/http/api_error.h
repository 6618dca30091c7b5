// Errors as OpenAI's API reports them: an HTTP status and a JSON body
// {"error": {"message", "type", "param", "code"}} that the official SDKs turn
// into typed exceptions (BadRequestError, AuthenticationError,
// RateLimitError, ...). One shape for the HTTP layer's own answers,
// `genstack serve` and the gateway.
#pragma once

#include <string>

#include "http/server.h"

namespace gs::http {

// Members have initializers so that designated initializers may leave them out.
struct ApiError {
  int status = 400;
  std::string message{};
  std::string type = "invalid_request_error";
  std::string param{};  // "" -> null
  std::string code{};   // "" -> null
};

std::string error_body(const ApiError& error);
// Ollama's shape: {"error": "message"} (its client shows that string).
std::string ollama_error_body(const ApiError& error);
// Answers error_body(error) with error.status.
void send_api_error(ResponseWriter& writer, const ApiError& error, Headers extra_headers = {});

}  // namespace gs::http
