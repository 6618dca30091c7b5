// Continuous batching for one model: many sequences share each forward pass.
// Every step, running sequences decode one token each while waiting prompts
// are prefilled in chunks within a token budget, so streams keep flowing
// while new requests join. Keys and values live in fixed-size blocks shared
// through a prefix cache; when blocks run out, the lowest-priority sequence
// is preempted (its blocks freed, recomputed later) instead of failing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "engine/block_pool.h"
#include "engine/request.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace gs {

struct Sequence;
class TokenFilter;

struct SchedulerOptions {
  int32_t max_parallel = 16;  // sequences decoding together
  int64_t n_ctx = 4096;       // positions per sequence
  int64_t kv_tokens = 0;      // positions in the shared cache; 0: n_ctx * max_parallel, capped
  int32_t block_rows = 16;
  int64_t max_batch_tokens = 512;  // tokens per forward pass (decode + prefill chunks)
  int32_t max_queue = 256;         // waiting sequences beyond this are refused
  GgmlType kv_type = GgmlType::F16;
};

struct StepStats {
  int32_t sequences = 0;
  int64_t tokens = 0;
  double seconds = 0;
};

struct SchedulerStats {
  int32_t waiting = 0;
  int32_t running = 0;
  int32_t blocks_used = 0;
  int32_t blocks_total = 0;
  int32_t block_rows = 0;
  uint64_t prefix_hit_tokens = 0;
  uint64_t preemptions = 0;
  uint64_t steps = 0;
};

class Scheduler {
 public:
  // `compute` serialises forward passes of all models sharing `pool`.
  static Result<std::unique_ptr<Scheduler>> create(const Model& model, ThreadPool& pool, std::mutex& compute,
                                                   const SchedulerOptions& options);
  ~Scheduler();

  enum class Admission { kAccepted, kQueueFull, kTooLong, kStopped };
  // Queues a sequence; the sink hears about it from the scheduler's thread.
  // Never blocks. kTooLong: the prompt leaves no room in the context.
  Admission submit(GenerationRequest request, std::shared_ptr<SequenceSink> sink);
  // Cancels everything queued or running and joins the thread.
  void stop();

  SchedulerStats stats() const;
  int64_t n_ctx() const { return options_.n_ctx; }
  uint64_t kv_bytes() const { return cache_->bytes(); }
  // True when nothing is queued or running.
  bool idle() const;
  // When the scheduler last had work (keep-alive counts from there).
  std::chrono::steady_clock::time_point last_active() const {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(last_active_.load()));
  }
  void set_step_observer(std::function<void(const StepStats&)> observer) {
    step_observer_ = std::move(observer);
  }

 private:
  Scheduler(const Model& model, std::mutex& compute, const SchedulerOptions& options);
  void loop();
  void step();
  void take_inbox();
  void drop_cancelled();
  void admit();
  bool ensure_blocks(Sequence& seq, int64_t n_positions);
  void preempt(Sequence& seq);
  Sequence* lowest_priority_running(const Sequence* except);
  void run_batch(std::vector<Sequence*>& batch, std::vector<int64_t>& chunks);
  void sample(Sequence& seq, const float* logits);
  void publish_blocks(Sequence& seq);
  void retire(Sequence& seq, FinishReason reason, std::string error = {});

  const Model& model_;
  std::mutex& compute_;
  SchedulerOptions options_;
  std::unique_ptr<KvCache> cache_;
  std::unique_ptr<Forward> forward_;
  std::unique_ptr<BlockPool> blocks_;
  std::unique_ptr<TokenFilter> token_filter_;  // built on first constrained request

  mutable std::mutex inbox_mutex_;
  std::condition_variable inbox_cv_;
  std::vector<std::unique_ptr<Sequence>> inbox_;
  bool stopping_ = false;
  std::atomic<int32_t> n_waiting_{0}, n_running_{0};

  // Owned by the scheduler thread.
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;
  std::vector<float> row_;  // logits row being masked / scored
  uint64_t next_id_ = 1;

  std::atomic<int32_t> blocks_used_{0};
  std::atomic<std::chrono::steady_clock::rep> last_active_{
      std::chrono::steady_clock::now().time_since_epoch().count()};
  std::atomic<uint64_t> prefix_hit_tokens_{0}, preemptions_{0}, steps_{0};
  std::function<void(const StepStats&)> step_observer_;
  std::thread thread_;
};

}  // namespace gs
