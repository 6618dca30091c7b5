#include "core/thread_pool.h"

#include <immintrin.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace gs {
namespace {
// Spin this many iterations (~tens of microseconds) before sleeping: long
// enough to bridge the gap between ops of one token, short enough not to
// burn a core while idle.
constexpr int kSpinIterations = 1 << 16;
constexpr int kSpinBeforeYield = 1 << 10;
}  // namespace

int physical_core_count() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, physical_id = "0";
  while (std::getline(cpuinfo, line)) {
    auto value = [&] { return line.substr(line.find(':') + 1); };
    if (line.rfind("physical id", 0) == 0) physical_id = value();
    if (line.rfind("core id", 0) == 0) cores.emplace(physical_id, value());
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : physical_core_count()) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

// Thread indices of a job are claimed, not assigned: the caller claims
// first, and any index a worker has not claimed by the time the caller is
// free, the caller runs itself. A worker that lost its core (an
// oversubscribed machine) then costs nothing instead of a time slice.
// claim_ packs (generation << 32 | next index) so a late worker cannot claim
// an index of a job that has already moved on.
bool ThreadPool::claim_and_run(uint64_t generation) {
  uint64_t state = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((state >> 32) != (generation & 0xFFFFFFFFu)) return false;
    const int index = static_cast<int>(state & 0xFFFFFFFFu);
    if (index >= n_threads_) return false;
    if (claim_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) {
      fn_(ctx_, index, n_threads_);
      completed_.fetch_add(1, std::memory_order_acq_rel);
      state = claim_.load(std::memory_order_acquire);
    }
  }
}

void ThreadPool::run_raw(RawFn fn, void* ctx) {
  if (n_threads_ == 1) {
    fn(ctx, 0, 1);
    return;
  }
  // Callers on different threads take turns (each job owns fn_/ctx_ until done).
  std::lock_guard<std::mutex> turn(run_mutex_);
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = fn;
    ctx_ = ctx;
    completed_.store(0, std::memory_order_relaxed);
    generation = generation_.load(std::memory_order_relaxed) + 1;
    claim_.store((generation & 0xFFFFFFFFu) << 32, std::memory_order_release);
    generation_.store(generation, std::memory_order_release);
  }
  if (sleepers_.load(std::memory_order_acquire) > 0) wake_.notify_all();
  claim_and_run(generation);
  for (int spins = 0; completed_.load(std::memory_order_acquire) != n_threads_; ++spins) {
    if (spins < kSpinBeforeYield) {
      _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::worker_loop(int) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < kSpinIterations) {
      _mm_pause();
      ++spins;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    claim_and_run(seen);
  }
}

}  // namespace gs
