// A small HTTP/1.1 client for `genstack run` talking to a running server:
// a quick probe (GET with a timeout) and a POST whose response body is
// handed over piece by piece as it streams in.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gs::cli {

struct HttpEndpoint {
  std::string host = "127.0.0.1";
  std::string port = "11434";
};

// "http://host:port" (the scheme and port are optional).
Result<HttpEndpoint> parse_base_url(std::string_view url);

struct HttpResult {
  int status = 0;
  std::string body;  // for http_get; for http_post_stream only when the status is not 200
};

Result<HttpResult> http_get(const HttpEndpoint& endpoint, const std::string& path, const std::string& api_key,
                            std::chrono::milliseconds timeout);
// on_data gets the decoded body in pieces; returning false stops reading.
Result<HttpResult> http_post_stream(const HttpEndpoint& endpoint, const std::string& path,
                                    const std::string& body, const std::string& api_key,
                                    const std::function<bool(std::string_view)>& on_data);

}  // namespace gs::cli
