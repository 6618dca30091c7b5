#include "gateway/errors.h"

#include <boost/json.hpp>

namespace gs::gateway {

std::string error_json(const GatewayError& error) {
  namespace json = boost::json;
  const json::value code = error.code.empty() ? json::value(nullptr) : json::value(error.code);
  return json::serialize(json::object{
      {"error",
       json::object{{"message", error.message}, {"type", error.type}, {"param", nullptr}, {"code", code}}}});
}

void send_error(http::ResponseWriter& writer, const GatewayError& error, http::Headers extra_headers) {
  writer.send(error.status, "application/json", error_json(error), std::move(extra_headers));
}

}  // namespace gs::gateway
