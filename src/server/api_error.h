// The server's common API errors; the error type and its JSON shapes are
// http::ApiError's (shared with the gateway).
#pragma once

#include <string>

#include "http/api_error.h"

namespace gs::server {

using http::ApiError;
using http::error_body;
using http::ollama_error_body;

ApiError bad_request(std::string message, std::string param = {}, std::string code = {});
ApiError model_not_found(const std::string& model);

}  // namespace gs::server
