#include "gateway/balancer.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

namespace {

uint64_t mix64(uint64_t x) {  // splitmix64's finalizer: every input bit moves every output bit
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double load_per_weight(const Candidate& c) { return static_cast<double>(c.outstanding) / c.weight; }

}  // namespace

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
  return load_per_weight(candidates[second]) < load_per_weight(candidates[first]) ? second : first;
}

uint64_t stable_hash(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

size_t rendezvous_choice(std::span<const Candidate> candidates, uint64_t affinity) {
  size_t best = 0;
  double best_score = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < candidates.size(); ++i) {
    // u in (0, 1) from the top 53 bits; -w / ln(u) makes P(i wins) = w_i / sum(w).
    const uint64_t bits = mix64(affinity ^ mix64(candidates[i].name_hash)) >> 11;
    const double u = (static_cast<double>(bits) + 0.5) / 9007199254740992.0;  // 2^53
    const double score = -candidates[i].weight / std::log(u);
    if (score > best_score) {
      best_score = score;
      best = i;
    }
  }
  return best;
}

size_t pick_sticky(std::span<const Candidate> candidates, uint64_t affinity, std::mt19937_64& rng) {
  const size_t preferred = rendezvous_choice(candidates, affinity);
  double least = load_per_weight(candidates[preferred]);
  for (const Candidate& c : candidates) least = std::min(least, load_per_weight(c));
  if (load_per_weight(candidates[preferred]) <= 2 * least + kStickySlack) return preferred;
  return pick_two_choices(candidates, rng);
}

struct Balancer::Upstream {
  std::string name;
  double weight = 1;
  uint64_t name_hash = stable_hash(name);
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

int Balancer::choose(std::span<const size_t> pool, std::span<const size_t> tried, double now,
                     std::optional<uint64_t> affinity) {
  std::vector<size_t> indices;
  std::vector<Candidate> candidates;
  std::shared_lock list_lock(list_mutex_);
  for (size_t index : pool) {
    if (index >= upstreams_.size() || std::find(tried.begin(), tried.end(), index) != tried.end()) continue;
    Upstream& u = *upstreams_[index];
    std::lock_guard lock(u.mutex);
    if (u.removed || !u.healthy || u.breaker.state(now) == BreakerState::kOpen) continue;
    indices.push_back(index);
    candidates.push_back({u.weight, u.outstanding.load(), u.name_hash});
  }
  while (!candidates.empty()) {
    size_t pick;
    {
      std::lock_guard lock(rng_mutex_);
      pick = affinity ? pick_sticky(candidates, *affinity, rng_) : pick_two_choices(candidates, rng_);
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
