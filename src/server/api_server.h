// The HTTP API: routes OpenAI (/v1/...) and Ollama (/api/...) requests to
// the models, plus /health, /ready and /metrics. Handlers run on the HTTP
// server's threads and never wait for generation: they validate, queue the
// sequences and return; the scheduler's thread answers through the writer.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "http/server.h"
#include "server/api_error.h"
#include "server/model_manager.h"
#include "server/server_metrics.h"

namespace gs::server {

struct ApiOptions {
  std::string api_key;  // empty: no authentication
};

class ApiServer {
 public:
  ApiServer(ModelManager& models, ServerMetrics& metrics, ApiOptions options);

  void handle(http::Request request, std::shared_ptr<http::ResponseWriter> writer);
  // From now on, generation requests get 503.
  void begin_shutdown() { shutting_down_ = true; }

 private:
  using Writer = std::shared_ptr<http::ResponseWriter>;
  struct Target;  // the model a generation request names, loaded

  void send_json(const Writer& w, const boost::json::value& body, int status = 200);
  void send_error(const Writer& w, const ApiError& error, std::string_view endpoint = {},
                  std::vector<std::pair<std::string, std::string>> headers = {});
  // Parses the body as a JSON object; on failure answers 400 and returns null.
  std::optional<boost::json::object> parse_body(const http::Request& request, const Writer& w,
                                                std::string_view endpoint);
  std::shared_ptr<LoadedModel> resolve_model(const boost::json::object& body, const Writer& w,
                                             std::string_view endpoint, const char* key,
                                             std::optional<std::chrono::milliseconds> keep_alive = {});

  void openai_generate(const http::Request& request, const Writer& w, bool chat);
  void openai_models(const Writer& w);
  void openai_model(const Writer& w, std::string_view id);
  void ollama_generate(const http::Request& request, const Writer& w, bool chat);
  void ollama_tags(const Writer& w, bool running);
  void ollama_show(const http::Request& request, const Writer& w);
  struct StoreRequest;  // a store route's body and the reference it names
  std::optional<StoreRequest> parse_store_request(const http::Request& request, const Writer& w,
                                                  std::string_view endpoint);
  void ollama_pull(const http::Request& request, const Writer& w);
  void ollama_delete(const http::Request& request, const Writer& w);
  static void append_store_models(boost::json::array& models);
  void metrics(const Writer& w);

  ModelManager& models_;
  ServerMetrics& metrics_;
  ApiOptions options_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace gs::server
