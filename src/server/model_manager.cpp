#include "server/model_manager.h"

#include "template/chat_template.h"

#include <algorithm>
#include <filesystem>

namespace gs::server {
namespace {
std::string_view strip_latest(std::string_view id) {
  constexpr std::string_view kLatest = ":latest";
  if (id.size() > kLatest.size() && id.substr(id.size() - kLatest.size()) == kLatest) {
    id.remove_suffix(kLatest.size());
  }
  return id;
}
}  // namespace

std::string model_id_from_path(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

ModelManager::ModelManager(std::vector<ModelSpec> specs, const ManagerOptions& options, ThreadPool& pool)
    : specs_(std::move(specs)), options_(options), pool_(pool) {}

ModelManager::~ModelManager() { unload_all(); }

const ModelSpec* ModelManager::find(std::string_view id) const {
  const std::string_view bare = strip_latest(id);
  for (const ModelSpec& spec : specs_) {
    // A store model is served as "ai/smollm2:latest" and answers to "ai/smollm2" too.
    const bool untagged_latest = spec.id.size() == id.size() + 7 && spec.id.rfind(id, 0) == 0 &&
                                 std::string_view(spec.id).substr(id.size()) == ":latest";
    if (spec.id == id || spec.id == bare || spec.path == id || untagged_latest) return &spec;
  }
  return nullptr;
}

Result<std::shared_ptr<LoadedModel>> ModelManager::acquire(
    std::string_view id, std::optional<std::chrono::milliseconds> keep_alive) {
  const ModelSpec* spec = find(id);
  if (!spec) return std::shared_ptr<LoadedModel>();
  const auto find_loaded = [&]() -> std::shared_ptr<LoadedModel> {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& m : loaded_) {
      if (m->id == spec->id) return m;
    }
    return nullptr;
  };
  std::shared_ptr<LoadedModel> model = find_loaded();
  if (!model) {
    // One load at a time; whoever waited finds the model another request loaded.
    std::lock_guard<std::mutex> load_lock(load_mutex_);
    model = find_loaded();
    if (!model) {
      GS_ASSIGN_OR_RETURN(model, load(*spec));
      make_room(model->memory_bytes());
      std::lock_guard<std::mutex> lock(mutex_);
      loaded_.push_back(model);
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  model->keep_alive = keep_alive.value_or(options_.keep_alive);
  model->expires_at = model->keep_alive.count() < 0 ? LoadedModel::Clock::time_point::max()
                                                    : LoadedModel::Clock::now() + model->keep_alive;
  return model;
}

Result<std::shared_ptr<LoadedModel>> ModelManager::load(const ModelSpec& spec) {
  const auto start = std::chrono::steady_clock::now();
  auto m = std::make_shared<LoadedModel>();
  m->id = spec.id;
  m->path = spec.path;
  GS_ASSIGN_OR_RETURN(m->model, Model::load(spec.path));
  std::error_code ec;
  m->file_bytes = std::filesystem::file_size(spec.path, ec);
  auto own = m->model->file().get_string("tokenizer.chat_template");
  m->has_own_template = own.ok();
  m->chat_template = own.ok() ? *own : std::string(tmpl::chatml_fallback_template());
  m->tool_format = tmpl::detect_tool_call_format(m->chat_template);
  SchedulerOptions so = options_.scheduler;
  const int64_t train = m->model->config().n_ctx_train;
  if (so.n_ctx <= 0) so.n_ctx = std::min<int64_t>(train > 0 ? train : 4096, 4096);
  GS_ASSIGN_OR_RETURN(m->scheduler, Scheduler::create(*m->model, pool_, compute_, so));
  m->loaded_at = std::chrono::system_clock::now();
  m->load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

void ModelManager::make_room(uint64_t bytes) {
  if (options_.max_memory == 0) return;
  std::vector<std::shared_ptr<LoadedModel>> evicted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    uint64_t used = 0;
    for (auto& m : loaded_) used += m->memory_bytes();
    // Least recently used first: the one whose keep-alive ends soonest.
    std::sort(loaded_.begin(), loaded_.end(),
              [](const auto& a, const auto& b) { return a->expires_at < b->expires_at; });
    for (auto it = loaded_.begin(); it != loaded_.end() && used + bytes > options_.max_memory;) {
      if ((*it)->scheduler->idle()) {
        used -= (*it)->memory_bytes();
        evicted.push_back(*it);
        it = loaded_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& m : evicted) m->scheduler->stop();
}

std::vector<std::shared_ptr<LoadedModel>> ModelManager::loaded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return loaded_;
}

void ModelManager::expire() {
  std::vector<std::shared_ptr<LoadedModel>> expired;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = LoadedModel::Clock::now();
    for (auto it = loaded_.begin(); it != loaded_.end();) {
      // Keep-alive counts from the later of the last request's arrival and
      // the end of the scheduler's last work, as Ollama's does.
      const auto& m = **it;
      const bool forever = m.keep_alive.count() < 0;
      const auto since_work = m.scheduler->last_active() + m.keep_alive;
      if (!forever && m.expires_at <= now && since_work <= now && m.scheduler->idle()) {
        expired.push_back(*it);
        it = loaded_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& m : expired) m->scheduler->stop();
}

void ModelManager::unload_all() {
  std::vector<std::shared_ptr<LoadedModel>> all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    all.swap(loaded_);
  }
  for (auto& m : all) m->scheduler->stop();
}

}  // namespace gs::server
