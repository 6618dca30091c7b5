// A fixed pool of worker threads kept warm between the many small parallel
// steps of one forward pass: workers spin briefly before sleeping, so a
// decode step does not pay a wake-up per matmul.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace gs {

class ThreadPool {
 public:
  // n_threads <= 0 means one per physical core.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index, n_threads) once on every thread (the caller is
  // thread 0) and returns when all calls have returned. Not reentrant; calls
  // from several threads run one after another.
  template <typename Fn>
  void run(Fn&& fn) {
    run_raw([](void* ctx, int ith, int nth) { (*static_cast<Fn*>(ctx))(ith, nth); }, &fn);
  }

  // Splits [0, n) into contiguous chunks, one per thread.
  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn) {
    run([&](int ith, int nth) {
      const int64_t per = (n + nth - 1) / nth;
      const int64_t begin = per * ith;
      const int64_t end = begin + per < n ? begin + per : n;
      if (begin < end) fn(begin, end);
    });
  }

 private:
  using RawFn = void (*)(void* ctx, int ith, int nth);
  void run_raw(RawFn fn, void* ctx);
  void worker_loop(int ith);
  bool claim_and_run(uint64_t generation);

  int n_threads_;
  std::vector<std::thread> workers_;
  RawFn fn_ = nullptr;
  void* ctx_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> completed_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::mutex run_mutex_;
  std::condition_variable wake_;
};

// Number of physical cores (hyper-threads of one core count once).
int physical_core_count();

}  // namespace gs
