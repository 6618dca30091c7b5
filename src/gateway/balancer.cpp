#include "gateway/balancer.h"

#include <algorithm>

namespace gs::gateway {

const char* breaker_state_name(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

BreakerState CircuitBreaker::state(double now) const {
  if (!open_) return BreakerState::kClosed;
  if (probe_in_flight_ || now >= open_until_) return BreakerState::kHalfOpen;
  return BreakerState::kOpen;
}

bool CircuitBreaker::try_acquire(double now) {
  if (!open_) return true;
  if (probe_in_flight_ || now < open_until_) return false;
  probe_in_flight_ = true;
  return true;
}

void CircuitBreaker::on_success() {
  consecutive_failures_ = 0;
  open_ = false;
  probe_in_flight_ = false;
}

bool CircuitBreaker::on_failure(double now) {
  if (open_) {  // the half-open probe failed (or a request sent before ejection): wait again
    probe_in_flight_ = false;
    open_until_ = now + cooldown_s_;
    return false;
  }
  if (++consecutive_failures_ < failure_threshold_) return false;
  open_ = true;
  open_until_ = now + cooldown_s_;
  return true;
}

void CircuitBreaker::on_health_ok(double now) {
  if (open_ && !probe_in_flight_ && now >= open_until_) on_success();
}

void CircuitBreaker::release_probe() { probe_in_flight_ = false; }

size_t pick_two_choices(std::span<const Candidate> candidates, std::mt19937_64& rng) {
  if (candidates.size() == 1) return 0;
  double total = 0;
  for (const Candidate& c : candidates) total += c.weight;
  auto draw = [&](size_t skip, double skipped_weight) {
    std::uniform_real_distribution<double> dist(0, total - skipped_weight);
    double x = dist(rng);
    size_t last = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (i == skip) continue;
      last = i;
      if (x < candidates[i].weight) return i;
      x -= candidates[i].weight;
    }
    return last;  // rounding at the top end
  };
  const size_t first = draw(candidates.size(), 0);
  const size_t second = draw(first, candidates[first].weight);
  auto load = [&](size_t i) { return static_cast<double>(candidates[i].outstanding) / candidates[i].weight; };
  return load(second) < load(first) ? second : first;
}

struct Balancer::Upstream {
  std::string name;
  double weight = 1;
  std::atomic<int64_t> outstanding{0};
  mutable std::mutex mutex;  // guards the fields below
  CircuitBreaker breaker;
  bool healthy = true;
  bool removed = false;
  uint64_t ejections = 0;

  Upstream(std::string n, double w, const Settings& s)
      : name(std::move(n)), weight(w), breaker(s.failure_threshold, s.cooldown_s) {}
};

Balancer::Balancer(const std::vector<std::string>& names, const std::vector<double>& weights,
                   Settings settings, uint64_t seed)
    : settings_(settings), rng_(seed) {
  for (size_t i = 0; i < names.size(); ++i) {
    upstreams_.push_back(
        std::make_unique<Upstream>(names[i], i < weights.size() ? weights[i] : 1.0, settings));
  }
}

Balancer::~Balancer() = default;

Balancer::Upstream& Balancer::at(size_t upstream) const {
  std::shared_lock lock(list_mutex_);
  return *upstreams_.at(upstream);
}

size_t Balancer::size() const {
  std::shared_lock lock(list_mutex_);
  return upstreams_.size();
}

size_t Balancer::add(std::string name, double weight) {
  std::unique_lock lock(list_mutex_);
  upstreams_.push_back(std::make_unique<Upstream>(std::move(name), weight, settings_));
  return upstreams_.size() - 1;
}

void Balancer::remove(size_t upstream) {
  Upstream& u = at(upstream);
  std::lock_guard lock(u.mutex);
  u.removed = true;
}

int64_t Balancer::outstanding(size_t upstream) const { return at(upstream).outstanding.load(); }

int Balancer::choose(std::span<const size_t> pool, std::span<const size_t> tried, double now) {
  std::vector<size_t> indices;
  std::vector<Candidate> candidates;
  std::shared_lock list_lock(list_mutex_);
  for (size_t index : pool) {
    if (index >= upstreams_.size() || std::find(tried.begin(), tried.end(), index) != tried.end()) continue;
    Upstream& u = *upstreams_[index];
    std::lock_guard lock(u.mutex);
    if (u.removed || !u.healthy || u.breaker.state(now) == BreakerState::kOpen) continue;
    indices.push_back(index);
    candidates.push_back({u.weight, u.outstanding.load()});
  }
  while (!candidates.empty()) {
    size_t pick;
    {
      std::lock_guard lock(rng_mutex_);
      pick = pick_two_choices(candidates, rng_);
    }
    Upstream& u = *upstreams_[indices[pick]];
    std::lock_guard lock(u.mutex);
    if (!u.removed && u.healthy && u.breaker.try_acquire(now)) {
      u.outstanding.fetch_add(1);
      return static_cast<int>(indices[pick]);
    }
    // Lost the half-open probe to another request: drop it and draw again.
    indices.erase(indices.begin() + static_cast<std::ptrdiff_t>(pick));
    candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  return -1;
}

bool Balancer::finish(size_t upstream, Outcome outcome, double now) {
  Upstream& u = at(upstream);
  u.outstanding.fetch_sub(1);
  std::lock_guard lock(u.mutex);
  switch (outcome) {
    case Outcome::kSuccess:
      u.breaker.on_success();
      return false;
    case Outcome::kAborted:
      u.breaker.release_probe();
      return false;
    case Outcome::kFailure:
      if (!u.breaker.on_failure(now)) return false;
      ++u.ejections;
      return true;
  }
  return false;
}

void Balancer::set_health(size_t upstream, bool healthy, double now) {
  Upstream& u = at(upstream);
  std::lock_guard lock(u.mutex);
  u.healthy = healthy;
  if (healthy) u.breaker.on_health_ok(now);
}

std::vector<UpstreamStats> Balancer::stats(double now) const {
  std::vector<UpstreamStats> out;
  std::shared_lock list_lock(list_mutex_);
  for (const auto& u : upstreams_) {
    std::lock_guard lock(u->mutex);
    if (u->removed) continue;
    out.push_back({u->name, u->healthy, u->breaker.state(now), u->outstanding.load(), u->ejections});
  }
  return out;
}

}  // namespace gs::gateway
