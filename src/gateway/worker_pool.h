// The threads that run proxied requests (key lookup, limits, the blocking
// upstream exchange): at most `max_threads`, created on demand and kept for
// reuse, so a request costs no thread creation and a flood no unbounded
// threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gs::gateway {

class WorkerPool {
 public:
  explicit WorkerPool(size_t max_threads);
  ~WorkerPool();  // runs what was accepted, then joins every thread
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on an idle thread or a new one; false (and `task` dropped)
  // when max_threads tasks are already accepted and not finished.
  bool try_run(std::function<void()> task);
  // Tasks accepted and not finished.
  size_t busy() const;

 private:
  void work();

  const size_t max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t busy_ = 0;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace gs::gateway
