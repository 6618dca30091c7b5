// `genstack up stack.yaml`: a gateway and, per model, local `genstack serve`
// replicas that a scaling policy starts and stops as load changes.
// See docs/GATEWAY.md, "genstack up".
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "gateway/config.h"
#include "gateway/scaling.h"

namespace gs::gateway {

struct ModelStack {
  std::string name;                     // the route's model name
  std::string model;                    // what `genstack serve` loads: a path or a store reference
  std::vector<std::string> serve_args;  // passed to each replica's `genstack serve`
  ReplicaPolicy replicas;
  double start_timeout_s = 120;  // for a replica to answer /ready (and a cold start's wait)
};

struct StackConfig {
  Config gateway;  // the gateway's keys; a route per model is added
  std::vector<ModelStack> models;
};

Result<StackConfig> parse_stack(const std::string& yaml_text);
Result<StackConfig> load_stack(const std::string& path);

// Serves until SIGINT/SIGTERM, then stops the gateway and every replica.
// `binary` is what runs `serve` (the running genstack).
Status run_stack(const StackConfig& stack, const std::string& binary);

}  // namespace gs::gateway
