#include "gateway/worker_pool.h"

namespace gs::gateway {

WorkerPool::WorkerPool(size_t max_threads) : max_threads_(max_threads) {}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool WorkerPool::try_run(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopping_ || busy_ >= max_threads_) return false;
  ++busy_;
  queue_.push_back(std::move(task));
  // Running + queued tasks = busy_ <= max_threads_, so a new thread is
  // needed only when every idle one already has a task waiting for it.
  if (idle_ < queue_.size()) {
    threads_.emplace_back([this] { work(); });
  } else {
    wake_.notify_one();
  }
  return true;
}

size_t WorkerPool::busy() const {
  std::lock_guard lock(mutex_);
  return busy_;
}

void WorkerPool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping, nothing left
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // what it holds (a response writer) goes before the count drops
    lock.lock();
    --busy_;
  }
}

}  // namespace gs::gateway
