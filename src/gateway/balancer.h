// Choosing an upstream for a request: least outstanding requests with
// power-of-two choices (weighted), or, for a sticky route, the upstream that
// rendezvous hashing assigns to the request's prompt prefix (so that its KV
// prefix cache hits); a circuit breaker per upstream (passive ejection after
// consecutive failures, one half-open probe after a cool-down) and the
// verdict of active health checks.
//
// Time is passed in as seconds on a monotonic clock so that tests drive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gs::gateway {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* breaker_state_name(BreakerState state);

// Not thread-safe: the Balancer guards each breaker with its upstream's mutex.
class CircuitBreaker {
 public:
  CircuitBreaker(int failure_threshold, double cooldown_s)
      : failure_threshold_(failure_threshold), cooldown_s_(cooldown_s) {}

  BreakerState state(double now) const;
  // Whether a request may be sent now. After the cool-down the first caller
  // gets the single half-open probe; others wait for its outcome.
  bool try_acquire(double now);
  void on_success();
  // Returns true when this failure ejected the upstream (closed -> open).
  bool on_failure(double now);
  // A successful active health check after the cool-down counts as the probe.
  void on_health_ok(double now);
  // Gives back a probe whose request ended without a verdict (client gone).
  void release_probe();

 private:
  int failure_threshold_;
  double cooldown_s_;
  int consecutive_failures_ = 0;
  bool open_ = false;
  double open_until_ = 0;
  bool probe_in_flight_ = false;
};

struct Candidate {
  double weight = 1;
  int64_t outstanding = 0;
  uint64_t name_hash = 0;  // identity for rendezvous hashing: stable across restarts and index changes
};
// Power of two choices: two distinct candidates drawn with probability
// proportional to weight; the one with fewer outstanding requests per unit of
// weight wins (ties: the first drawn). Returns an index into `candidates`,
// which must not be empty.
size_t pick_two_choices(std::span<const Candidate> candidates, std::mt19937_64& rng);

// A stable 64-bit hash of bytes (FNV-1a, then a mixing step): prompt prefixes
// and upstream names. Stable across processes, unlike std::hash.
uint64_t stable_hash(std::string_view bytes);

// Weighted rendezvous (highest random weight) hashing: the candidate with the
// highest -weight / ln(u), u uniform in (0, 1) from (affinity, name_hash).
// Removing a candidate moves only the affinities it had; a candidate of
// weight w gets a share w / sum of weights. `candidates` must not be empty.
size_t rendezvous_choice(std::span<const Candidate> candidates, uint64_t affinity);

// The sticky choice unless it is overloaded: its outstanding requests per
// unit of weight above 2 x the least loaded candidate's + kStickySlack. Then
// power of two choices, so that one hot prefix cannot pile onto one upstream.
inline constexpr double kStickySlack = 4;
size_t pick_sticky(std::span<const Candidate> candidates, uint64_t affinity, std::mt19937_64& rng);

struct UpstreamStats {
  std::string name;
  bool healthy = true;
  BreakerState breaker = BreakerState::kClosed;
  int64_t outstanding = 0;
  uint64_t ejections = 0;
};

class Balancer {
 public:
  struct Settings {
    int failure_threshold = 3;
    double cooldown_s = 10;
  };
  // `weights[i]` belongs to the upstream `names[i]`; upstreams are addressed by index.
  Balancer(const std::vector<std::string>& names, const std::vector<double>& weights, Settings settings,
           uint64_t seed = std::random_device{}());
  ~Balancer();

  // One of `pool` not in `tried` that is healthy and whose breaker admits a
  // request; -1 when none. The chosen upstream's outstanding count is raised:
  // call finish() exactly once for every successful choose(). With an
  // `affinity` (a prompt prefix's hash) the choice is pick_sticky()'s among
  // those, else pick_two_choices()'s.
  int choose(std::span<const size_t> pool, std::span<const size_t> tried, double now,
             std::optional<uint64_t> affinity = std::nullopt);
  enum class Outcome { kSuccess, kFailure, kAborted };
  // Returns true when a failure ejected the upstream.
  bool finish(size_t upstream, Outcome outcome, double now);

  void set_health(size_t upstream, bool healthy, double now);
  // Upstreams that are not removed.
  std::vector<UpstreamStats> stats(double now) const;
  size_t size() const;

  // Run-time pool changes (`genstack up`). Indices are never reused: a
  // removed upstream is drained (choose() skips it) and keeps its index so
  // that requests in flight can still finish() it.
  size_t add(std::string name, double weight);
  void remove(size_t upstream);
  int64_t outstanding(size_t upstream) const;

 private:
  struct Upstream;
  Upstream& at(size_t upstream) const;
  Settings settings_;
  mutable std::shared_mutex list_mutex_;  // guards the vector, not the upstreams
  std::vector<std::unique_ptr<Upstream>> upstreams_;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
};

}  // namespace gs::gateway
