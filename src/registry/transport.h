// One HTTP exchange over libcurl (internal to the registry module). Proxies
// come from the environment as libcurl reads it (https_proxy/HTTPS_PROXY,
// no_proxy/NO_PROXY; http_proxy lowercase only): no CURLOPT_PROXY is set.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gs::registry {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent for POST/PUT/PATCH
  bool follow_redirects = false;     // blob downloads may be redirected to storage
  // 2xx bodies go here when set (false stops the transfer); otherwise, and
  // for error statuses, up to 1 MiB is kept in HttpResponse::body.
  std::function<bool(long status, std::string_view bytes)> on_body;
  // Progress of the upload body (bytes sent so far).
  std::function<void(uint64_t sent)> on_upload;
};

// A request without body callbacks (GCC warns on partial designated initializers).
inline HttpRequest make_request(std::string method, std::string url, std::vector<std::string> headers = {},
                                std::string body = {}) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.body = std::move(body);
  return request;
}

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names, of the final response
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A transport failure (DNS, refused, reset, timeout) is an error Status;
// any HTTP status is a response.
Result<HttpResponse> perform(const HttpRequest& request);

// A URL with the query parameter appended ("?" or "&" as needed).
std::string with_query(const std::string& url, std::string_view param);
std::string url_encode(std::string_view text);

}  // namespace gs::registry
