// The gateway's request path, shared by gateway.cpp (routing, keys, limits,
// health checks) and proxy.cpp (forwarding with retries and streaming).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/balancer.h"
#include "gateway/config.h"
#include "gateway/key_store.h"
#include "gateway/rate_limit.h"
#include "gateway/response_cache.h"
#include "gateway/stream_relay.h"
#include "gateway/upstream_client.h"
#include "gateway/usage.h"
#include "gateway/worker_pool.h"
#include "http/server.h"
#include "observe/registry.h"

namespace gs::gateway {

struct GatewayMetrics {
  explicit GatewayMetrics(obs::Registry& registry);
  obs::Registry& registry;
  obs::Counter& retries;
  obs::Counter& stream_interruptions;
  obs::Counter& limited_requests;
  obs::Counter& limited_tokens;
  obs::Counter& unauthorized;
  obs::Counter& forbidden;
  obs::Counter& overloaded;
  obs::Counter& cache_hits;
  obs::Counter& cache_misses;
  obs::Histogram& latency(const std::string& route);
  obs::Counter& requests(const std::string& route, int status);
  obs::Counter& ejections(const std::string& upstream);
};

// One request on its way to an upstream.
struct ProxyRequest {
  http::Request request;
  std::shared_ptr<http::ResponseWriter> writer;
  const RouteConfig* route = nullptr;
  std::string body;  // rewritten: canonical model, the tier's priority
  http::Headers limit_headers;
  int64_t key_id = 0;
  double tokens_per_minute = 0;    // the key's tier's
  bool strip_usage_chunk = false;  // the gateway asked for usage the client did not
  std::string cache_key;           // "" when the answer is not to be cached
  // Filled on the way back, for usage accounting.
  std::string answered_by = "-";
  Usage usage;
};

class Gateway {
 public:
  // `usage` may be null (no accounting).
  Gateway(const Config& config, KeyStore& keys, UsageRecorder* usage);
  ~Gateway();  // waits for requests in flight

  void handle(http::Request request, std::shared_ptr<http::ResponseWriter> writer);
  // One round of active health checks (blocking).
  void check_health();
  double now() const;

 private:
  void serve_api(http::Request request, std::shared_ptr<http::ResponseWriter> writer);
  void serve_models(const http::Request& request, http::ResponseWriter& writer);
  std::string render_metrics();
  // Answers from the cache when it holds the answer; false on a miss.
  bool serve_cached(ProxyRequest& job);
  void store_in_cache(const ProxyRequest& job, CachedAnswer answer);
  // proxy.cpp
  // Returns the status the client got.
  int forward(ProxyRequest& job);
  struct Attempt;
  void charge_tokens(const ProxyRequest& job);
  bool try_upstream(ProxyRequest& job, size_t upstream, Attempt& attempt);
  void relay(ProxyRequest& job, UpstreamCall& call, size_t upstream, Attempt& attempt);
  Balancer::Outcome relay_stream(ProxyRequest& job, UpstreamCall& call, StreamFormat format,
                                 const std::string& name, const http::Headers& headers, Usage& usage);
  http::Headers upstream_headers(size_t upstream) const;
  void record(size_t upstream, Balancer::Outcome outcome);

  const Config& config_;
  KeyStore& keys_;
  UsageRecorder* usage_;
  Balancer balancer_;
  std::vector<std::unique_ptr<ConnectionPool>> pools_;
  std::unique_ptr<Limiter> limiter_;
  std::unique_ptr<ResponseCache> cache_;  // null when disabled
  obs::Registry registry_;
  GatewayMetrics metrics_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();

  // Last, so that it goes first: requests in flight finish while the rest is there.
  WorkerPool workers_;
};

}  // namespace gs::gateway
