// Local `genstack serve` processes for `genstack up`: start one on a free
// 127.0.0.1 port and wait for /ready, read its queue from /metrics, stop it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace gs::gateway {

struct ReplicaProcess {
  pid_t pid = -1;
  uint16_t port = 0;
};

// Runs `binary serve MODEL --port P SERVE_ARGS...` and waits until it answers
// /ready; the process is killed again when it does not within `timeout`.
Result<ReplicaProcess> start_replica(const std::string& binary, const std::string& model,
                                     const std::vector<std::string>& serve_args,
                                     std::chrono::milliseconds timeout);

// What a replica's /metrics says about its load.
struct ReplicaLoad {
  double queue = 0;         // genstack_queue_length, all models
  double tokens_total = 0;  // genstack_generation_tokens_total, all models
};
Result<ReplicaLoad> read_replica_load(uint16_t port, std::chrono::milliseconds timeout);
// The sum of the samples of `name` (any labels) in Prometheus text.
double sum_metric(std::string_view text, std::string_view name);

// True once the process has exited (and is reaped).
bool replica_exited(pid_t pid);
// SIGTERM to each, then SIGKILL to whatever still runs after `grace`; reaps all.
void stop_replicas(const std::vector<pid_t>& pids, std::chrono::milliseconds grace);

}  // namespace gs::gateway
