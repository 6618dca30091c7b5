// The gateway's request path, shared by gateway.cpp (routing, keys, limits,
// health checks) and proxy.cpp (forwarding with retries and streaming).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/balancer.h"
#include "gateway/config.h"
#include "gateway/key_store.h"
#include "gateway/quota.h"
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
  obs::Counter& limited_monthly_tokens;
  obs::Counter& unauthorized;
  obs::Counter& forbidden;
  obs::Counter& overloaded;
  obs::Counter& cache_hits;
  obs::Counter& cache_misses;
  obs::Histogram& latency(const std::string& route);
  obs::Counter& requests(const std::string& route, int status);
  obs::Counter& ejections(const std::string& upstream);

 private:
  // Series by route (and status) found once: the registry's lookup checks and
  // renders the labels, which is more work than the rest of a cached answer.
  std::mutex series_mutex_;
  std::unordered_map<std::string, obs::Histogram*> latency_series_;
  std::unordered_map<std::string, obs::Counter*> request_series_;  // "status route"
};

// One request on its way to an upstream.
struct ProxyRequest {
  http::Request request;
  std::shared_ptr<http::ResponseWriter> writer;
  const RouteConfig* route = nullptr;
  std::string body;  // rewritten: canonical model, the tier's priority
  http::Headers limit_headers;
  int64_t key_id = 0;
  double tokens_per_minute = 0;      // the key's tier's
  int64_t monthly_tokens = 0;        // the key's tier's quota; 0: unlimited
  std::optional<uint64_t> affinity;  // a sticky route's prompt-prefix hash
  bool strip_usage_chunk = false;    // the gateway asked for usage the client did not
  std::string cache_key;             // "" when the answer is not to be cached
  // Filled on the way back, for usage accounting.
  std::string answered_by = "-";
  Usage usage;
  // A whole (not streamed) answer, sent once the request is accounted for (tokens charged,
  // metrics counted): the client's next request must find the counts already made.
  struct Reply {
    int status = 0;
    std::string content_type;
    std::string body;
    http::Headers headers;
  };
  std::optional<Reply> reply;
};

// What is recorded once a request is answered: metrics, and usage once the key is known.
struct RequestTrace {
  std::string route;
  double started = 0;
  UsageRecord usage;
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

  // Run-time upstreams (`genstack up`): one added to `model`'s route takes
  // requests for it beside the route's configured pool. A removed one takes
  // no new request; it is drained once upstream_outstanding() is 0.
  // Returns the upstream's index.
  size_t add_upstream(const std::string& model, UpstreamConfig upstream);
  void remove_upstream(size_t upstream);
  int64_t upstream_outstanding(size_t upstream) const { return balancer_.outstanding(upstream); }
  // Once a removed upstream is drained and stopped: its idle connections go.
  void release_upstream(size_t upstream) { slot(upstream).pool->close_idle(); }
  // Before the io_context goes: pooled upstream connections belong to it.
  void close_connections();
  // Called with the canonical model before each routed request is forwarded;
  // false: answer 503 with Retry-After (no replica could be started in time).
  using DemandHook = std::function<bool(const std::string& model)>;
  void set_demand_hook(DemandHook hook) { demand_hook_ = std::move(hook); }
  obs::Registry& registry() { return registry_; }

 private:
  // Admission (key, tier, limits, cache), then the proxy coroutine on the client's io executor.
  void serve_api(http::Request request, std::shared_ptr<http::ResponseWriter> writer);
  // True when admission may wait on the network (Redis, a cold start): it then runs on a
  // worker thread instead of the io thread.
  bool admission_blocks() const;
  void finish(RequestTrace& trace, int status);
  void serve_models(const http::Request& request, http::ResponseWriter& writer);
  std::string render_metrics();
  // Answers from the cache when it holds the answer; false on a miss.
  bool serve_cached(ProxyRequest& job);
  void store_in_cache(const ProxyRequest& job, CachedAnswer answer);
  // 503 with Retry-After: the demand hook found no replica in time.
  int refuse_cold(const ProxyRequest& job, const std::string& model);
  // proxy.cpp: everything from here runs as coroutines on the client connection's strand.
  void start_proxy(ProxyRequest job, RequestTrace trace);
  boost::asio::awaitable<void> proxy(ProxyRequest job, RequestTrace trace);
  // Returns the status the client got.
  boost::asio::awaitable<int> forward(ProxyRequest& job);
  struct Attempt;
  void charge_tokens(const ProxyRequest& job);
  boost::asio::awaitable<bool> try_upstream(ProxyRequest& job, size_t upstream, Attempt& attempt);
  boost::asio::awaitable<void> relay(ProxyRequest& job, UpstreamCall& call, size_t upstream,
                                     Attempt& attempt);
  boost::asio::awaitable<Balancer::Outcome> relay_stream(ProxyRequest& job, UpstreamCall& call,
                                                         StreamFormat format, const std::string& name,
                                                         const http::Headers& headers, Usage& usage);
  void record(size_t upstream, Balancer::Outcome outcome);

  // An upstream by balancer index: the configured ones first, then those
  // added at run time (never erased, so references stay valid).
  struct UpstreamSlot {
    UpstreamSlot(UpstreamConfig config, std::string model);
    UpstreamConfig config;
    std::string model;  // the route it joined at run time; "" for configured ones
    UpstreamAddress address;
    std::string tls_error;  // https: why no TLS setup could be made (then every call fails)
    http::Headers headers;  // sent with every call: Content-Type, the key of api_key_env
    std::unique_ptr<ConnectionPool> pool = std::make_unique<ConnectionPool>();
    bool removed = false;
  };
  const UpstreamSlot& slot(size_t upstream) const;
  std::vector<size_t> pool_indices(const std::vector<std::string>& names, const std::string& model) const;

  const Config& config_;
  KeyStore& keys_;
  UsageRecorder* usage_;
  Balancer balancer_;
  mutable std::shared_mutex slots_mutex_;  // guards the deque and `removed`
  std::deque<UpstreamSlot> slots_;
  DemandHook demand_hook_;
  std::unique_ptr<Limiter> limiter_;
  std::unique_ptr<MonthlyQuota> quota_;
  std::unique_ptr<ResponseCache> cache_;  // null when disabled
  obs::Registry registry_;
  GatewayMetrics metrics_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  // Proxied requests admitted and not answered (limits.max_concurrent bounds it).
  std::atomic<int64_t> in_flight_{0};

  // Last, so that it goes first: admissions under way finish while the rest is there.
  WorkerPool workers_;
};

// run_gateway with a say in its lifetime: `attach` runs before the gateway
// listens, `stopped` once it stopped serving (both on the calling thread).
struct GatewayHooks {
  std::function<void(Gateway&)> attach;
  std::function<void()> stopped;
};
Status run_gateway(const Config& config, const GatewayHooks& hooks);

}  // namespace gs::gateway
