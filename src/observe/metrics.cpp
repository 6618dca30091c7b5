#include "observe/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace gs::obs {

namespace {
// Whole numbers up to 2^53 convert to uint64_t exactly.
constexpr double kMaxWhole = 9007199254740992.0;
}  // namespace

void Counter::inc(double v) {
  assert(v >= 0.0 && "Counter::inc: counters only go up");
  if (!(v >= 0.0)) return;  // also drops NaN
  if (v <= kMaxWhole && v == std::trunc(v)) {
    whole_.fetch_add(static_cast<uint64_t>(v), std::memory_order_relaxed);
  } else {
    fraction_.fetch_add(v, std::memory_order_relaxed);
  }
}

double Counter::value() const {
  return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
         fraction_.load(std::memory_order_relaxed);
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  // The first bound >= v; NaN, which compares false with every bound, counts as +Inf.
  const size_t i =
      std::isnan(v)
          ? bounds_.size()
          : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

namespace {
constexpr double kLatency[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
// Decoding one token takes ~5-100 ms on CPUs, so that range is finest.
constexpr double kTokenTime[] = {0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05,
                                 0.075, 0.1,    0.15,  0.2,    0.3,  0.5,   0.75, 1,    2};
constexpr double kCount[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
}  // namespace

std::span<const double> latency_buckets() { return kLatency; }
std::span<const double> token_time_buckets() { return kTokenTime; }
std::span<const double> count_buckets() { return kCount; }

}  // namespace gs::obs
