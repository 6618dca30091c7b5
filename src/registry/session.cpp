#include "registry/session.h"

#include <cstdlib>
#include <thread>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace gs::registry {
namespace {

// The first message of a distribution error body ({"errors":[{"code","message"}]}), if any.
std::string registry_message(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) return {};
  const auto* errors = doc.get_object().if_contains("errors");
  if (!errors || !errors->is_array() || errors->get_array().empty()) return {};
  const auto& first = errors->get_array()[0];
  if (!first.is_object()) return {};
  std::string out;
  for (const char* key : {"code", "message"}) {
    const auto* v = first.get_object().if_contains(key);
    if (v && v->is_string()) out += (out.empty() ? "" : ": ") + std::string(v->get_string());
  }
  return out;
}

std::string trim_slash(std::string url) {
  while (url.ends_with('/')) url.pop_back();
  return url;
}

}  // namespace

Endpoint registry_endpoint(const store::Reference& ref, bool insecure) {
  if (ref.registry == store::kDockerHub) {
    const char* mirror = std::getenv("GENSTACK_REGISTRY_MIRROR");
    if (mirror && *mirror) return {trim_slash(mirror), ref.registry};
    return {fmt::format("{}://{}", insecure ? "http" : "https", store::kDockerHubApi), ref.registry};
  }
  return {fmt::format("{}://{}", insecure ? "http" : "https", ref.registry), ref.registry};
}

std::string manifest_url(const Endpoint& endpoint, std::string_view repository,
                         std::string_view tag_or_digest) {
  return fmt::format("{}/v2/{}/manifests/{}", endpoint.base, repository, tag_or_digest);
}

std::string blob_url(const Endpoint& endpoint, std::string_view repository, std::string_view digest) {
  return fmt::format("{}/v2/{}/blobs/{}", endpoint.base, repository, digest);
}

std::string uploads_url(const Endpoint& endpoint, std::string_view repository) {
  return fmt::format("{}/v2/{}/blobs/uploads/", endpoint.base, repository);
}

std::string absolute_location(const Endpoint& endpoint, const std::string& location) {
  if (location.starts_with("http://") || location.starts_with("https://")) return location;
  // base is scheme://host[:port][/prefix]; a location starting with '/' is relative to the host.
  const size_t host_start = endpoint.base.find("://") + 3;
  const size_t path_start = endpoint.base.find('/', host_start);
  const std::string origin = endpoint.base.substr(0, path_start);
  return location.starts_with('/') ? origin + location : endpoint.base + "/" + location;
}

Session::Session(Endpoint endpoint, std::optional<Credentials> credentials, std::vector<std::string> scopes,
                 RetryPolicy policy)
    : endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      scopes_(std::move(scopes)),
      policy_(policy) {}

Status Session::status_error(const std::string& what, const HttpResponse& response) const {
  const std::string detail = registry_message(response.body);
  return Error("{}: registry {} answered HTTP {}{}", what, endpoint_.host, response.status,
               detail.empty() ? "" : " (" + detail + ")");
}

std::optional<std::string> Session::authorization() {
  std::lock_guard lock(mutex_);
  if (auth_header_.empty()) return std::nullopt;
  return auth_header_;
}

Status Session::authenticate(const HttpResponse& unauthorized) {
  const std::string header = unauthorized.header("www-authenticate");
  if (header.empty())
    return status_error("authentication failed (no WWW-Authenticate challenge)", unauthorized);
  GS_ASSIGN_OR_RETURN(Challenge challenge, parse_challenge(header));
  const std::string basic =
      credentials_ ? "Basic " + base64_encode(credentials_->username + ":" + credentials_->password) : "";
  if (challenge.scheme == "basic") {
    if (!credentials_)
      return Error("registry {} requires a login (genstack login {})", endpoint_.host, endpoint_.host);
    std::lock_guard lock(mutex_);
    auth_header_ = basic;
    return Status::Ok();
  }
  if (challenge.scheme != "bearer")
    return Error("registry {} asks for unsupported auth scheme '{}'", endpoint_.host, challenge.scheme);
  const std::string realm = challenge.param("realm");
  if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
    return Error("registry {} sent a token realm that is not an http(s) URL", endpoint_.host);
  }
  HttpRequest token_request = make_request("GET", realm);
  if (!challenge.param("service").empty()) {
    token_request.url = with_query(token_request.url, "service=" + url_encode(challenge.param("service")));
  }
  std::vector<std::string> scopes = scopes_;
  if (!challenge.param("scope").empty()) scopes.insert(scopes.begin(), challenge.param("scope"));
  for (const std::string& scope : scopes)
    token_request.url = with_query(token_request.url, "scope=" + url_encode(scope));
  if (!basic.empty()) token_request.headers.push_back("Authorization: " + basic);
  GS_ASSIGN_OR_RETURN(HttpResponse token_response, perform(token_request));
  if (token_response.status == 401 || token_response.status == 403) {
    return Error("registry {} refused the {}: HTTP {}", endpoint_.host,
                 credentials_ ? "stored credentials" : "anonymous token request (try genstack login)",
                 token_response.status);
  }
  if (token_response.status != 200)
    return Error("token request to {} failed: HTTP {}", realm, token_response.status);
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(token_response.body, ec);
  const boost::json::value* token = nullptr;
  if (!ec && doc.is_object()) {
    token = doc.get_object().if_contains("token");
    if (!token || !token->is_string()) token = doc.get_object().if_contains("access_token");
  }
  if (!token || !token->is_string() || token->get_string().empty()) {
    return Error("the token service of {} answered without a token", endpoint_.host);
  }
  std::lock_guard lock(mutex_);
  auth_header_ = "Bearer " + std::string(token->get_string());
  return Status::Ok();
}

Result<HttpResponse> Session::send_once(const HttpRequest& request) {
  HttpRequest authorized = request;
  if (auto auth = authorization()) authorized.headers.push_back("Authorization: " + *auth);
  return perform(authorized);
}

Result<HttpResponse> Session::send(const std::function<HttpRequest()>& make) {
  bool authenticated = false;
  for (int attempt = 1;; ++attempt) {
    const HttpRequest request = make();
    auto response = send_once(request);
    if (response.ok() && response->status == 401 && !authenticated) {
      authenticated = true;  // one challenge round per request: a second 401 is final
      GS_RETURN_IF_ERROR(authenticate(*response));
      --attempt;
      continue;
    }
    const bool retryable = !response.ok() || is_retryable_status(response->status);
    if (!retryable) return response;
    if (attempt >= policy_.max_attempts) {
      if (!response.ok()) {
        return Error("cannot reach registry {} ({}) after {} tries: {}", endpoint_.host, request.url, attempt,
                     response.error());
      }
      return status_error(fmt::format("{} {} failed after {} tries", request.method, request.url, attempt),
                          *response);
    }
    std::optional<std::chrono::milliseconds> retry_after;
    if (response.ok()) retry_after = parse_retry_after(response->header("retry-after"));
    std::this_thread::sleep_for(backoff_delay(policy_, attempt, retry_after));
  }
}

}  // namespace gs::registry
