// The gateway's own error answers, shaped as OpenAI's API reports errors
// ({"error": {"message", "type", "param", "code"}}) so that the SDKs raise
// their typed exceptions (AuthenticationError, RateLimitError, ...).
#pragma once

#include <string>

#include "http/server.h"

namespace gs::gateway {

struct GatewayError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string code;  // "" -> null
};

std::string error_json(const GatewayError& error);
void send_error(http::ResponseWriter& writer, const GatewayError& error, http::Headers extra_headers = {});

}  // namespace gs::gateway
