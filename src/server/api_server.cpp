#include "server/api_server.h"

#include <fmt/format.h>

#include "observe/registry.h"

namespace gs::server {

ApiServer::ApiServer(ModelManager& models, ServerMetrics& metrics, ApiOptions options)
    : models_(models), metrics_(metrics), options_(std::move(options)) {}

void ApiServer::send_json(const Writer& w, const boost::json::value& body, int status) {
  w->send(status, "application/json", boost::json::serialize(body));
}

void ApiServer::send_error(const Writer& w, const ApiError& error, std::string_view endpoint,
                           std::vector<std::pair<std::string, std::string>> headers) {
  const bool ollama = endpoint.starts_with("/api/");
  w->send(error.status, "application/json", ollama ? ollama_error_body(error) : error_body(error),
          std::move(headers));
  if (!endpoint.empty()) metrics_.request_done("", endpoint, error.status);
}

std::optional<boost::json::object> ApiServer::parse_body(const http::Request& request, const Writer& w,
                                                         std::string_view endpoint) {
  boost::system::error_code ec;
  // Boost.JSON rejects invalid UTF-8 in strings by default: such bodies are 400s.
  boost::json::value body = boost::json::parse(request.body, ec);
  if (ec) {
    send_error(w, bad_request(fmt::format("the request body is not valid JSON: {}", ec.message())), endpoint);
    return std::nullopt;
  }
  if (!body.is_object()) {
    send_error(w, bad_request("the request body must be a JSON object"), endpoint);
    return std::nullopt;
  }
  return std::move(body.get_object());
}

std::shared_ptr<LoadedModel> ApiServer::resolve_model(const boost::json::object& body, const Writer& w,
                                                      std::string_view endpoint, const char* key,
                                                      std::optional<std::chrono::milliseconds> keep_alive) {
  const auto* model = body.if_contains(key);
  if (!model || !model->is_string()) {
    send_error(w, bad_request(fmt::format("'{}' is required and must be a string", key), key), endpoint);
    return nullptr;
  }
  const std::string id(model->get_string());
  auto loaded = models_.acquire(id, keep_alive);
  if (!loaded.ok()) {
    send_error(
        w, ApiError{500, "loading model '" + id + "' failed: " + loaded.error(), "server_error", "model", ""},
        endpoint);
    return nullptr;
  }
  if (!*loaded) {
    send_error(w, model_not_found(id), endpoint);
    return nullptr;
  }
  return *loaded;
}

void ApiServer::metrics(const Writer& w) {
  w->send(200, std::string(obs::kTextContentType), metrics_.render(models_));
}

void ApiServer::handle(http::Request request, std::shared_ptr<http::ResponseWriter> w) {
  const std::string& path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  if (path == "/health" && get) return send_json(w, {{"status", "ok"}});
  if (path == "/ready" && get) {
    if (shutting_down_) return send_json(w, {{"status", "shutting down"}}, 503);
    return send_json(w, {{"status", "ready"}});
  }
  if (path == "/" && get) return w->send(200, "text/plain", "genstack is running");
  if (!options_.api_key.empty()) {
    // Constant-time comparison is not needed for a local bearer key; the key
    // itself is never logged.
    const std::string_view auth = request.header("Authorization");
    if (auth != "Bearer " + options_.api_key) {
      return send_error(w, ApiError{401, "Incorrect or missing API key (send 'Authorization: Bearer KEY')",
                                    "invalid_request_error", "", "invalid_api_key"});
    }
  }
  if (path == "/metrics" && get) return metrics(w);
  if (path == "/v1/chat/completions" && post) return openai_generate(request, w, true);
  if (path == "/v1/completions" && post) return openai_generate(request, w, false);
  if (path == "/v1/models" && get) return openai_models(w);
  if (path.starts_with("/v1/models/") && get) return openai_model(w, std::string_view(path).substr(11));
  if (path == "/api/chat" && post) return ollama_generate(request, w, true);
  if (path == "/api/generate" && post) return ollama_generate(request, w, false);
  if (path == "/api/tags" && get) return ollama_tags(w, false);
  if (path == "/api/ps" && get) return ollama_tags(w, true);
  if (path == "/api/show" && post) return ollama_show(request, w);
  if (path == "/api/pull" && post) return ollama_pull(request, w);
  if (path == "/api/delete" && request.method == "DELETE") return ollama_delete(request, w);
  if (path == "/api/version" && get) return send_json(w, {{"version", GENSTACK_VERSION}});
  send_error(w,
             ApiError{404, fmt::format("no route for {} {}", request.method, path), "invalid_request_error",
                      "", "not_found"},
             path.starts_with("/api/") ? std::string_view(path) : std::string_view());
}

}  // namespace gs::server
