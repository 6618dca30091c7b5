#include "server/api_error.h"

namespace gs::server {

ApiError bad_request(std::string message, std::string param, std::string code) {
  return ApiError{400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

ApiError model_not_found(const std::string& model) {
  return ApiError{404, "The model '" + model + "' does not exist or is not served here",
                  "invalid_request_error", "model", "model_not_found"};
}

}  // namespace gs::server
