#include "gateway/scaling.h"

#include <fmt/format.h>

namespace gs::gateway {

void SampleWindow::add(double now, double value) {
  samples_.emplace_back(now, value);
  while (!samples_.empty() && samples_.front().first < now - window_s_) samples_.pop_front();
}

double SampleWindow::average() const {
  if (samples_.empty()) return 0;
  double sum = 0;
  for (const auto& [time, value] : samples_) sum += value;
  return sum / static_cast<double>(samples_.size());
}

namespace {

// Why the load is above a target; "" when it is not.
std::string overload(const ReplicaPolicy& policy, const ScalingInput& input) {
  if (input.queue_depth > policy.target_queue) {
    return fmt::format("queue {:.1f} > {:g}", input.queue_depth, policy.target_queue);
  }
  if (policy.target_tokens_per_s > 0 && input.tokens_per_s > policy.target_tokens_per_s) {
    return fmt::format("tokens/s {:.1f} > {:g}", input.tokens_per_s, policy.target_tokens_per_s);
  }
  return "";
}

bool calm(const ReplicaPolicy& policy, const ScalingInput& input) {
  if (input.queue_depth >= policy.target_queue / 2) return false;
  return policy.target_tokens_per_s <= 0 || input.tokens_per_s < policy.target_tokens_per_s / 2;
}

}  // namespace

ScalingDecision decide_replicas(const ReplicaPolicy& policy, const ScalingInput& input, ScalingState& state) {
  const int n = input.replicas;
  if (n == 0) {
    // Scaled to zero on purpose: the next request starts a replica.
    if (policy.idle_to_zero_s > 0 || policy.min == 0) return {0, ""};
    return {policy.min, fmt::format("below min {}", policy.min)};
  }
  const double idle = input.now - input.last_request;
  if (policy.idle_to_zero_s > 0 && idle >= policy.idle_to_zero_s) {
    state.calm_since = -1;
    return {0, fmt::format("idle {:.0f}s >= {:g}s", idle, policy.idle_to_zero_s)};
  }
  if (n < policy.min) return {policy.min, fmt::format("below min {}", policy.min)};
  if (n > policy.max) return {policy.max, fmt::format("above max {}", policy.max)};
  if (const std::string why = overload(policy, input); !why.empty()) {
    state.calm_since = -1;
    return n < policy.max ? ScalingDecision{n + 1, why} : ScalingDecision{n, ""};
  }
  if (!calm(policy, input)) {
    state.calm_since = -1;
    return {n, ""};
  }
  if (state.calm_since < 0) state.calm_since = input.now;
  if (n <= policy.min || input.now - state.calm_since < policy.cooldown_s) return {n, ""};
  state.calm_since = input.now;  // the next replica goes after another cool-down
  return {n - 1, fmt::format("queue {:.1f} < {:g} for {:g}s", input.queue_depth, policy.target_queue / 2,
                             policy.cooldown_s)};
}

}  // namespace gs::gateway
