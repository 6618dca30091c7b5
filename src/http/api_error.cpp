#include "http/api_error.h"

#include <boost/json.hpp>

namespace gs::http {
namespace {

boost::json::value string_or_null(const std::string& s) {
  return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

}  // namespace

std::string error_body(const ApiError& error) {
  return boost::json::serialize(boost::json::object{{"error", boost::json::object{
                                                                  {"message", error.message},
                                                                  {"type", error.type},
                                                                  {"param", string_or_null(error.param)},
                                                                  {"code", string_or_null(error.code)},
                                                              }}});
}

std::string ollama_error_body(const ApiError& error) {
  return boost::json::serialize(boost::json::object{{"error", error.message}});
}

void send_api_error(ResponseWriter& writer, const ApiError& error, Headers extra_headers) {
  writer.send(error.status, "application/json", error_body(error), std::move(extra_headers));
}

}  // namespace gs::http
