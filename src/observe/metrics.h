// Prometheus metric kinds: Counter, Gauge, Histogram. They are created and
// owned by an obs::Registry (observe/registry.h), which hands out references
// that stay valid for the registry's lifetime. Updating one is lock-free:
// callers on the hot path (one update per token) look the metric up once and
// keep the reference.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gs::obs {

// Label pairs in the order they are rendered. The same set in another order
// names the same series (Prometheus label sets are unordered).
using Labels = std::vector<std::pair<std::string, std::string>>;

// Doubles are updated with std::atomic<double>::fetch_add, a compare-exchange
// loop on the 64-bit word; it must not fall back to a lock.
static_assert(std::atomic<double>::is_always_lock_free);

// Separate cache lines so that metrics updated by different threads do not
// slow each other down through false sharing.
inline constexpr size_t kMetricAlign = 64;

// Monotonic: only ever goes up (a restart of the process resets it to 0).
class alignas(kMetricAlign) Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // `v` must be >= 0 (a negative or NaN increment is a programming error:
  // asserted in debug builds, ignored in release builds).
  void inc(double v = 1.0);
  double value() const;

 private:
  // Whole increments (token and request counts: nearly all of them) take one
  // atomic add; only fractional ones need the compare-exchange loop.
  std::atomic<uint64_t> whole_{0};
  std::atomic<double> fraction_{0.0};
};

class alignas(kMetricAlign) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations per bucket `v <= bound` plus their sum. Bucket bounds
// are fixed when the histogram's family is registered; +Inf is implicit.
class alignas(kMetricAlign) Histogram {
 public:
  // `bounds`: strictly increasing, finite upper bounds; must outlive this.
  explicit Histogram(std::span<const double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // NaN counts in the +Inf bucket only (and makes the sum NaN), as in the
  // reference Go client.
  void observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0.0;
    uint64_t count = 0;
  };
  // Buckets read one by one: with concurrent observe() calls the snapshot may
  // miss the newest ones, but it is always cumulative and +Inf == count.
  Snapshot snapshot() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket, not cumulative
  std::atomic<double> sum_{0.0};
};

// Default bucket bounds (all in base units, as Prometheus names expect).
// Request latency in seconds, 5 ms ... 60 s (time to first token, end to end).
std::span<const double> latency_buckets();
// Time per output token in seconds, 1 ms ... 2 s (inter-token latency).
std::span<const double> token_time_buckets();
// Powers of two 1 ... 4096 (batch sizes, prompt and output token counts).
std::span<const double> count_buckets();

}  // namespace gs::obs
