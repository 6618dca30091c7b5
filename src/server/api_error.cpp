#include "server/api_error.h"

#include <boost/json.hpp>

namespace gs::server {

std::string error_body(const ApiError& error) {
  boost::json::object e;
  e["message"] = error.message;
  e["type"] = error.type;
  e["param"] = error.param.empty() ? boost::json::value(nullptr) : boost::json::value(error.param);
  e["code"] = error.code.empty() ? boost::json::value(nullptr) : boost::json::value(error.code);
  boost::json::object body;
  body["error"] = std::move(e);
  return boost::json::serialize(body);
}

std::string ollama_error_body(const ApiError& error) {
  return boost::json::serialize(boost::json::object{{"error", error.message}});
}

ApiError bad_request(std::string message, std::string param, std::string code) {
  return ApiError{400, std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

ApiError model_not_found(const std::string& model) {
  return ApiError{404, "The model '" + model + "' does not exist or is not served here",
                  "invalid_request_error", "model", "model_not_found"};
}

}  // namespace gs::server
