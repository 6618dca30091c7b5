// Ollama's model-store routes: POST /api/pull (progress as NDJSON),
// DELETE /api/delete, and the store's models listed by /api/tags.
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "registry/registry.h"
#include "server/api_server.h"
#include "server/response_json.h"
#include "store/store.h"

namespace gs::server {
namespace {

boost::json::object progress_json(const registry::Progress& p) {
  boost::json::object o = {{"status", p.status}};
  if (!p.digest.empty()) o["digest"] = p.digest;
  if (p.total > 0) {
    o["total"] = p.total;
    o["completed"] = p.completed;
  }
  return o;
}

std::string line(const boost::json::value& v) { return boost::json::serialize(v) + "\n"; }

// Runs on its own thread: a pull takes minutes and must not hold an io thread.
void run_pull(const std::shared_ptr<http::ResponseWriter>& w, const store::Reference& ref, bool insecure,
              bool stream) {
  const auto home = store::Store::default_home();
  registry::TransferOptions options;
  options.home = home;
  options.insecure = insecure;
  if (stream) {
    w->begin_stream(200, "application/x-ndjson");
    options.progress = [w](const registry::Progress& p) { w->write(line(progress_json(p))); };
  }
  auto opened = store::Store::open(home);
  Result<store::Manifest> pulled =
      opened.ok() ? registry::pull(**opened, ref, options) : Result<store::Manifest>(opened.status());
  if (stream) {
    if (!pulled.ok()) w->write(line(boost::json::object{{"error", pulled.error()}}));
    return w->end();
  }
  if (!pulled.ok())
    return w->send(500, "application/json", line(boost::json::object{{"error", pulled.error()}}));
  w->send(200, "application/json", line(boost::json::object{{"status", "success"}}));
}

// Ollama clients send "model"; older ones "name".
std::optional<std::string> model_name(const boost::json::object& body) {
  for (const char* key : {"model", "name"}) {
    const auto* v = body.if_contains(key);
    if (v && v->is_string()) return std::string(v->get_string());
  }
  return std::nullopt;
}

bool bool_field(const boost::json::object& body, const char* key, bool fallback) {
  const auto* v = body.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

}  // namespace

struct ApiServer::StoreRequest {
  boost::json::object body;
  std::string name;  // as the client wrote it
  store::Reference ref;
};

std::optional<ApiServer::StoreRequest> ApiServer::parse_store_request(const http::Request& request,
                                                                      const Writer& w,
                                                                      std::string_view endpoint) {
  auto body = parse_body(request, w, endpoint);
  if (!body) return std::nullopt;
  auto name = model_name(*body);
  if (!name) {
    send_error(w, bad_request("'model' is required and must be a string", "model"), endpoint);
    return std::nullopt;
  }
  auto ref = store::parse_reference(*name);
  if (!ref.ok()) {
    send_error(w, bad_request(ref.error(), "model"), endpoint);
    return std::nullopt;
  }
  return StoreRequest{std::move(*body), std::move(*name), std::move(*ref)};
}

void ApiServer::ollama_pull(const http::Request& request, const Writer& w) {
  auto pull = parse_store_request(request, w, "/api/pull");
  if (!pull) return;
  std::thread(run_pull, w, pull->ref, bool_field(pull->body, "insecure", false),
              bool_field(pull->body, "stream", true))
      .detach();
}

void ApiServer::ollama_delete(const http::Request& request, const Writer& w) {
  static constexpr std::string_view kEndpoint = "/api/delete";
  auto del = parse_store_request(request, w, kEndpoint);
  if (!del) return;
  auto opened = store::Store::open(store::Store::default_home());
  if (!opened.ok()) return send_error(w, ApiError{500, opened.error(), "server_error", "", ""}, kEndpoint);
  if (!(*opened)->get(del->ref).ok()) return send_error(w, model_not_found(del->name), kEndpoint);
  Status removed = (*opened)->remove(del->ref);
  if (!removed.ok())
    return send_error(w, ApiError{500, removed.message(), "server_error", "", ""}, kEndpoint);
  send_json(w, boost::json::object{});
}

void ApiServer::append_store_models(boost::json::array& models) {
  auto opened = store::Store::open(store::Store::default_home());
  if (!opened.ok()) return;  // no store: only the served files
  for (const store::ModelEntry& entry : (*opened)->list()) {
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time((*opened)->blob_path(entry.manifest.digest), ec);
    const auto modified =
        ec ? std::chrono::system_clock::now()
           : std::chrono::system_clock::now() + (mtime - std::filesystem::file_time_type::clock::now());
    for (const std::string& tag : entry.tags) {
      models.push_back(
          {{"name", tag},
           {"model", tag},
           {"size", entry.size},
           {"digest", entry.manifest.digest.substr(entry.manifest.digest.find(':') + 1)},
           {"details", {{"format", "gguf"}}},
           {"modified_at",
            ollama_timestamp(std::chrono::time_point_cast<std::chrono::system_clock::duration>(modified))}});
    }
  }
}

}  // namespace gs::server
