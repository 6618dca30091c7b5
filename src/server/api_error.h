// Errors as OpenAI's API reports them: an HTTP status and a JSON body
// {"error": {"message", "type", "param", "code"}} that the official SDKs turn
// into typed exceptions (BadRequestError, NotFoundError, ...).
#pragma once

#include <string>

namespace gs::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // "" -> null
  std::string code;   // "" -> null
};

std::string error_body(const ApiError& error);
// Ollama's shape: {"error": "message"} (its client shows that string).
std::string ollama_error_body(const ApiError& error);

ApiError bad_request(std::string message, std::string param = {}, std::string code = {});
ApiError model_not_found(const std::string& model);

}  // namespace gs::server
