// Requests to one registry (internal): base URL, credentials, the token of
// the Bearer challenge flow, and bounded retries with backoff.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "registry/auth.h"
#include "registry/retry.h"
#include "registry/transport.h"
#include "store/reference.h"

namespace gs::registry {

struct Endpoint {
  std::string base;  // "https://registry-1.docker.io", "http://localhost:5000"
  std::string host;  // as credentials are stored: "docker.io", "localhost:5000"
};

// docker.io goes to GENSTACK_REGISTRY_MIRROR when set; insecure means http://.
Endpoint registry_endpoint(const store::Reference& ref, bool insecure);
std::string manifest_url(const Endpoint& endpoint, std::string_view repository,
                         std::string_view tag_or_digest);
std::string blob_url(const Endpoint& endpoint, std::string_view repository, std::string_view digest);
std::string uploads_url(const Endpoint& endpoint, std::string_view repository);
// Location headers may be relative ("/v2/...") to the registry.
std::string absolute_location(const Endpoint& endpoint, const std::string& location);

class Session {
 public:
  // scopes: "repository:ai/x:pull" (push adds ",push"); sent when a token is requested.
  Session(Endpoint endpoint, std::optional<Credentials> credentials, std::vector<std::string> scopes,
          RetryPolicy policy = RetryPolicy::from_env());

  // Sends make() (called again for each try, so a resumed download can move
  // its Range), answering auth challenges and retrying 5xx/429/connection
  // errors. A final 5xx/429 or transport error is an error naming the registry.
  Result<HttpResponse> send(const std::function<HttpRequest()>& make);
  const Endpoint& endpoint() const { return endpoint_; }
  // The registry and status of a failed response, with the registry's own message.
  Status status_error(const std::string& what, const HttpResponse& response) const;

 private:
  std::optional<std::string> authorization();
  Status authenticate(const HttpResponse& unauthorized);
  Result<HttpResponse> send_once(const HttpRequest& request);

  Endpoint endpoint_;
  std::optional<Credentials> credentials_;
  std::vector<std::string> scopes_;
  RetryPolicy policy_;
  std::mutex mutex_;
  std::string auth_header_;  // "Bearer ..." or "Basic ..."; empty: anonymous so far
};

}  // namespace gs::registry
