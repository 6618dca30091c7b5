// What is served and loaded: OpenAI's /v1/models, Ollama's /api/tags,
// /api/ps and /api/show, and Prometheus' /metrics.
#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "server/api_server.h"
#include "server/response_json.h"

namespace gs::server {
namespace {

int64_t file_mtime_seconds(const std::string& path) {
  std::error_code ec;
  const auto t = std::filesystem::last_write_time(path, ec);
  if (ec) return unix_seconds();
  // file_clock and system_clock differ by a constant; GCC 12 lacks clock_cast.
  const auto sys = t - std::filesystem::file_time_type::clock::now() + std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count();
}

std::string quantization_name(const Model& model) {
  auto ft = model.file().get_int("general.file_type");
  if (!ft.ok()) return "unknown";
  static const char* kNames[] = {"F32",    "F16",    "Q4_0",   "Q4_1",   "Q4_1_SOME_F16", "Q4_2",   "Q4_3",
                                 "Q8_0",   "Q5_0",   "Q5_1",   "Q2_K",   "Q3_K_S",        "Q3_K_M", "Q3_K_L",
                                 "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"};
  return *ft >= 0 && *ft < static_cast<int64_t>(std::size(kNames)) ? kNames[*ft]
                                                                   : fmt::format("type {}", *ft);
}

boost::json::object details(const LoadedModel* loaded) {
  boost::json::object d = {{"format", "gguf"}};
  if (loaded) {
    const ModelConfig& c = loaded->model->config();
    d["family"] = c.architecture;
    d["families"] = {c.architecture};
    d["parameter_size"] = fmt::format("{:.1f}M", static_cast<double>(loaded->model->weight_bytes()) / 1e6);
    d["quantization_level"] = quantization_name(*loaded->model);
  }
  return d;
}

}  // namespace

void ApiServer::openai_models(const Writer& w) {
  boost::json::array data;
  for (const ModelSpec& spec : models_.specs()) {
    data.push_back({{"id", spec.id},
                    {"object", "model"},
                    {"created", file_mtime_seconds(spec.path)},
                    {"owned_by", "genstack"}});
  }
  send_json(w, {{"object", "list"}, {"data", data}});
}

void ApiServer::openai_model(const Writer& w, std::string_view id) {
  const ModelSpec* spec = models_.find(id);
  if (!spec) return send_error(w, model_not_found(std::string(id)));
  send_json(w, {{"id", spec->id},
                {"object", "model"},
                {"created", file_mtime_seconds(spec->path)},
                {"owned_by", "genstack"}});
}

void ApiServer::ollama_tags(const Writer& w, bool running) {
  boost::json::array models;
  const auto loaded = models_.loaded();
  const auto find_loaded = [&](const std::string& id) -> const LoadedModel* {
    for (const auto& m : loaded) {
      if (m->id == id) return m.get();
    }
    return nullptr;
  };
  for (const ModelSpec& spec : models_.specs()) {
    const LoadedModel* m = find_loaded(spec.id);
    if (running && !m) continue;
    std::error_code ec;
    const auto size = std::filesystem::file_size(spec.path, ec);
    boost::json::object entry = {{"name", spec.id},
                                 {"model", spec.id},
                                 {"size", ec ? 0 : size},
                                 {"digest", ""},
                                 {"details", details(m)}};
    if (running) {
      const auto now_sys = std::chrono::system_clock::now();
      const auto left =
          m->expires_at == LoadedModel::Clock::time_point::max()
              ? std::chrono::hours(24 * 365)
              : std::chrono::duration_cast<std::chrono::hours>(m->expires_at - LoadedModel::Clock::now());
      entry["expires_at"] = ollama_timestamp(now_sys + left);
      entry["size_vram"] = 0;
      entry["size"] = m->memory_bytes();
    } else {
      entry["modified_at"] = ollama_timestamp(
          std::chrono::system_clock::time_point(std::chrono::seconds(file_mtime_seconds(spec.path))));
    }
    models.push_back(std::move(entry));
  }
  if (!running) append_store_models(models);
  send_json(w, {{"models", models}});
}

void ApiServer::ollama_show(const http::Request& request, const Writer& w) {
  auto body = parse_body(request, w, "/api/show");
  if (!body) return;
  const char* key = body->contains("model") ? "model" : "name";
  auto model = resolve_model(*body, w, "/api/show", key);
  if (!model) return;
  const ModelConfig& c = model->model->config();
  boost::json::object info = {{"general.architecture", c.architecture},
                              {"general.name", c.name},
                              {c.architecture + ".context_length", c.n_ctx_train},
                              {c.architecture + ".embedding_length", c.n_embd},
                              {c.architecture + ".block_count", c.n_layer},
                              {c.architecture + ".attention.head_count", c.n_head},
                              {c.architecture + ".attention.head_count_kv", c.n_head_kv}};
  boost::json::array capabilities = {"completion"};
  if (model->tool_format != tmpl::ToolCallFormat::kNone) capabilities.push_back("tools");
  send_json(w, {{"modelfile", ""},
                {"parameters", fmt::format("num_ctx {}", model->scheduler->n_ctx())},
                {"template", model->has_own_template ? model->chat_template : ""},
                {"details", details(model.get())},
                {"model_info", info},
                {"capabilities", capabilities},
                {"modified_at", ollama_timestamp(std::chrono::system_clock::now())}});
}

}  // namespace gs::server
