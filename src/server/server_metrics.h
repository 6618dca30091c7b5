// The server's Prometheus metrics, per model: requests by status, queue,
// latencies (time to first token, per output token, end to end), token
// totals, batch sizes, KV cache blocks, prefix cache hits, preemptions.
#pragma once

#include <string>
#include <string_view>

#include "engine/request.h"
#include "engine/scheduler.h"
#include "observe/registry.h"

namespace gs::server {

class ModelManager;

class ServerMetrics {
 public:
  void request_done(std::string_view model, std::string_view endpoint, int status);
  void sequence_done(std::string_view model, const SequenceTimings& timings);
  void step(std::string_view model, const StepStats& stats);
  // Samples the schedulers' gauges and counters, then renders everything.
  std::string render(const ModelManager& models);

 private:
  obs::Registry registry_;
};

}  // namespace gs::server
