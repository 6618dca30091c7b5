// The scaling policy of `genstack up`: how many replicas a model should have,
// decided from the queue depth (and tokens/s) its replicas report. A pure
// function of its inputs and a small state, so that tests drive the clock.
#pragma once

#include <deque>
#include <string>
#include <utility>

namespace gs::gateway {

struct ReplicaPolicy {
  int min = 1;
  int max = 3;
  double target_queue = 2;         // waiting requests per replica
  double target_tokens_per_s = 0;  // generated tokens/s per replica; 0: off
  double cooldown_s = 10;          // below half the targets this long before a replica goes
  double idle_to_zero_s = 0;       // no request this long: no replica; 0: off
};

// Averages of per-replica samples over the last `window_s` seconds, so that
// one burst between two scrapes does not add a replica.
class SampleWindow {
 public:
  SampleWindow() = default;
  explicit SampleWindow(double window_s) : window_s_(window_s) {}
  void add(double now, double value);
  double average() const;  // 0 without samples
  void clear() { samples_.clear(); }

 private:
  double window_s_ = 3;
  std::deque<std::pair<double, double>> samples_;  // (time, value)
};

struct ScalingInput {
  double now = 0;
  int replicas = 0;         // ready replicas
  double queue_depth = 0;   // per replica, averaged over the window
  double tokens_per_s = 0;  // per replica, averaged over the window
  double last_request = 0;  // time of the last request for the model
};

// Carried from one decision to the next.
struct ScalingState {
  double calm_since = -1;  // since when the load has been below half the targets; -1: it is not
};

struct ScalingDecision {
  int replicas = 0;    // wanted; equal to the input's when nothing changes
  std::string reason;  // e.g. "queue 5.0 > 2"; "" when nothing changes
};

// Up by one above a target (up to max); down by one after cooldown_s below
// half of every target (down to min); to zero after idle_to_zero_s without a
// request. At zero it stays there: the next request starts a replica.
ScalingDecision decide_replicas(const ReplicaPolicy& policy, const ScalingInput& input, ScalingState& state);

}  // namespace gs::gateway
