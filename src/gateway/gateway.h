// `genstack gateway`: an API gateway in front of genstack servers and other
// OpenAI-compatible endpoints: API keys and tiers, rate limits, model routes,
// load balancing with health checks and failover, a streaming proxy.
// See docs/GATEWAY.md.
#pragma once

#include "core/status.h"
#include "gateway/config.h"

namespace gs::gateway {

// Serves until SIGINT/SIGTERM; prints "genstack: gateway listening on http://HOST:PORT".
Status run_gateway(const Config& config);

}  // namespace gs::gateway
