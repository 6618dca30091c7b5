// The models a server can serve, loaded on first use and unloaded after
// their keep-alive expires or when a memory budget needs the room (least
// recently used first). Each loaded model has its own scheduler; all share
// one thread pool and take turns on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "engine/scheduler.h"
#include "model/model.h"
#include "template/tool_calls.h"

namespace gs::server {

struct ModelSpec {
  std::string id;    // what clients put in "model"
  std::string path;  // GGUF file
};

struct LoadedModel {
  using Clock = std::chrono::steady_clock;
  std::string id;
  std::string path;
  std::unique_ptr<Model> model;
  std::unique_ptr<Scheduler> scheduler;
  std::string chat_template;  // the model's, or a ChatML fallback
  bool has_own_template = false;
  tmpl::ToolCallFormat tool_format = tmpl::ToolCallFormat::kNone;
  uint64_t file_bytes = 0;
  std::chrono::system_clock::time_point loaded_at;
  double load_seconds = 0;
  // Guarded by the manager's mutex.
  Clock::time_point expires_at = Clock::time_point::max();
  std::chrono::milliseconds keep_alive{0};
  uint64_t memory_bytes() const { return file_bytes + (scheduler ? scheduler->kv_bytes() : 0); }
};

struct ManagerOptions {
  SchedulerOptions scheduler;  // n_ctx 0: the model's training context, capped at 4096
  std::chrono::milliseconds keep_alive{5 * 60 * 1000};  // < 0: forever
  uint64_t max_memory = 0;                              // bytes; 0: no budget
  // Models not in the list (e.g. pulled into the store while serving); nullopt: unknown.
  std::function<std::optional<ModelSpec>(std::string_view id)> resolve_unlisted;
};

class ModelManager {
 public:
  ModelManager(std::vector<ModelSpec> specs, const ManagerOptions& options, ThreadPool& pool);
  ~ModelManager();

  // The model named `id` (or "id:latest", or its path), loaded if need be.
  // keep_alive overrides the default for this use (Ollama's keep_alive); 0
  // unloads it once idle. Not found: a null pointer and no error.
  Result<std::shared_ptr<LoadedModel>> acquire(std::string_view id,
                                               std::optional<std::chrono::milliseconds> keep_alive = {});
  const ModelSpec* find(std::string_view id) const;
  const std::vector<ModelSpec>& specs() const { return specs_; }
  std::vector<std::shared_ptr<LoadedModel>> loaded() const;
  // Unloads idle models whose keep-alive has expired. Called periodically.
  void expire();
  void unload_all();
  const ManagerOptions& options() const { return options_; }

 private:
  Result<std::shared_ptr<LoadedModel>> load(const ModelSpec& spec);
  void make_room(uint64_t bytes);

  std::vector<ModelSpec> specs_;
  ManagerOptions options_;
  ThreadPool& pool_;
  std::mutex compute_;  // one forward pass at a time across models
  mutable std::mutex mutex_;
  std::mutex load_mutex_;  // one load at a time
  std::vector<std::shared_ptr<LoadedModel>> loaded_;
};

// "stories260K" from "../models/stories260K.gguf".
std::string model_id_from_path(const std::string& path);

}  // namespace gs::server
