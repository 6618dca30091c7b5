#include "gateway/gateway.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "core/signals.h"
#include "gateway/gateway_internal.h"
#include "gateway/prompt_prefix.h"
#include "gateway/redis_cache.h"
#include "gateway/redis_limiter.h"
#include "http/api_error.h"

namespace gs::gateway {
namespace json = boost::json;

namespace {

constexpr std::string_view kApiRoutes[] = {"/v1/chat/completions", "/v1/completions", "/v1/embeddings",
                                           "/api/chat", "/api/generate"};

const RouteConfig* find_route(const Config& config, const std::string& model) {
  const RouteConfig* wildcard = nullptr;
  for (const RouteConfig& r : config.routes) {
    if (r.model == model || std::find(r.aliases.begin(), r.aliases.end(), model) != r.aliases.end())
      return &r;
    if (r.model == "*") wildcard = &r;
  }
  return wildcard;
}

bool tier_allows(const TierConfig& tier, const std::string& requested, const std::string& canonical) {
  if (tier.models.empty()) return true;
  for (const std::string& m : tier.models) {
    if (m == "*" || m == requested || m == canonical) return true;
  }
  return false;
}

// `{"priority":N,` and the rest of a JSON object's text after its opening brace. The object
// is known to hold "model", so the comma is right, and not to hold "priority".
std::string with_priority_first(std::string_view object, int priority) {
  const size_t brace = object.find('{');
  std::string out = "{\"priority\":" + std::to_string(priority) + ",";
  out.append(object.substr(brace + 1));
  return out;
}

std::string bearer_token(const http::Request& request) {
  std::string_view value = request.header("Authorization");
  if (value.size() < 7 || (value.substr(0, 7) != "Bearer " && value.substr(0, 7) != "bearer ")) return "";
  value.remove_prefix(7);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return std::string(value);
}

http::ApiError unauthorized(std::string message) {
  return {.status = 401, .message = std::move(message), .code = "invalid_api_key"};
}

}  // namespace

GatewayMetrics::GatewayMetrics(obs::Registry& r)
    : registry(r),
      retries(r.counter("genstack_gateway_retries_total", "Requests sent again to another upstream.")),
      stream_interruptions(r.counter("genstack_gateway_stream_interruptions_total",
                                     "Streams cut by an upstream after the first byte.")),
      limited_requests(r.counter("genstack_gateway_limited_requests_total", "Requests refused with 429.",
                                 {{"limit", "requests"}})),
      limited_tokens(r.counter("genstack_gateway_limited_requests_total", "Requests refused with 429.",
                               {{"limit", "tokens"}})),
      limited_monthly_tokens(r.counter("genstack_gateway_limited_requests_total",
                                       "Requests refused with 429.", {{"limit", "monthly_tokens"}})),
      unauthorized(r.counter("genstack_gateway_unauthorized_total", "Requests refused with 401.")),
      forbidden(r.counter("genstack_gateway_forbidden_total", "Requests refused with 403.")),
      overloaded(r.counter("genstack_gateway_overloaded_total",
                           "Requests refused with 503 because limits.max_concurrent were in flight.")),
      cache_hits(
          r.counter("genstack_gateway_cache_hits_total", "Requests answered from the response cache.")),
      cache_misses(r.counter("genstack_gateway_cache_misses_total",
                             "Cacheable (deterministic) requests the cache did not hold.")) {}

obs::Histogram& GatewayMetrics::latency(const std::string& route) {
  std::lock_guard lock(series_mutex_);
  obs::Histogram*& series = latency_series_[route];
  if (!series) {
    series =
        &registry.histogram("genstack_gateway_request_duration_seconds", "Time from request to last byte.",
                            obs::latency_buckets(), {{"route", route}});
  }
  return *series;
}

obs::Counter& GatewayMetrics::requests(const std::string& route, int status) {
  const std::string status_text = std::to_string(status);
  std::lock_guard lock(series_mutex_);
  obs::Counter*& series = request_series_[status_text + " " + route];
  if (!series) {
    series = &registry.counter("genstack_gateway_requests_total", "Requests answered, by route and status.",
                               {{"route", route}, {"status", status_text}});
  }
  return *series;
}

obs::Counter& GatewayMetrics::ejections(const std::string& upstream) {
  return registry.counter("genstack_gateway_ejections_total", "Upstreams ejected by the circuit breaker.",
                          {{"upstream", upstream}});
}

namespace {
std::vector<std::string> upstream_names(const Config& c) {
  std::vector<std::string> out;
  for (const auto& u : c.upstreams) out.push_back(u.name);
  return out;
}
std::vector<double> upstream_weights(const Config& c) {
  std::vector<double> out;
  for (const auto& u : c.upstreams) out.push_back(u.weight);
  return out;
}
}  // namespace

Gateway::Gateway(const Config& config, KeyStore& keys, UsageRecorder* usage)
    : config_(config),
      keys_(keys),
      usage_(usage),
      balancer_(upstream_names(config), upstream_weights(config),
                Balancer::Settings{config.ejection.consecutive_failures, config.ejection.cooldown_s}),
      metrics_(registry_),
      workers_(static_cast<size_t>(config.limits.max_concurrent)) {
  for (const UpstreamConfig& u : config.upstreams) slots_.emplace_back(u, "");
  if (config.redis.url.empty()) {
    limiter_ = std::make_unique<RateLimiter>();
  } else {
    limiter_ = std::make_unique<RedisRateLimiter>(config.redis);
  }
  std::unique_ptr<QuotaCounter> counter;
  if (config.redis.url.empty()) {
    counter = std::make_unique<MemoryQuotaCounter>();
  } else {
    counter = std::make_unique<RedisQuotaCounter>(config.redis);
  }
  QuotaSeed seed = [usage](int64_t key, const std::string& month) -> Result<int64_t> {
    if (!usage) return int64_t{0};
    return usage->store().month_tokens(key, month);
  };
  quota_ = std::make_unique<MonthlyQuota>(std::move(counter), std::move(seed),
                                          [] { return static_cast<int64_t>(std::time(nullptr)); });
  if (config.cache.enabled) {
    if (config.cache.backend == "redis") {
      cache_ = std::make_unique<RedisResponseCache>(config.redis, config.cache.ttl_s, config.cache.max_bytes);
    } else {
      cache_ = std::make_unique<MemoryResponseCache>(config.cache.ttl_s, config.cache.max_bytes);
    }
  }
}

Gateway::~Gateway() = default;

Gateway::UpstreamSlot::UpstreamSlot(UpstreamConfig c, std::string m)
    : config(std::move(c)), model(std::move(m)), address{config.host, config.port, nullptr} {
  headers.emplace_back("Content-Type", "application/json");
  const char* key = config.api_key_env.empty() ? nullptr : std::getenv(config.api_key_env.c_str());
  if (key && *key) headers.emplace_back("Authorization", std::string("Bearer ") + key);
  if (!config.tls) return;
  auto tls = make_tls_client(config.ca_file, config.tls_verify);
  if (tls.ok()) {
    address.tls = std::move(*tls);
  } else {
    tls_error = tls.status().message();
  }
}

void Gateway::close_connections() {
  std::shared_lock lock(slots_mutex_);
  for (UpstreamSlot& s : slots_) s.pool->close();
}

const Gateway::UpstreamSlot& Gateway::slot(size_t upstream) const {
  std::shared_lock lock(slots_mutex_);
  return slots_.at(upstream);
}

std::vector<size_t> Gateway::pool_indices(const std::vector<std::string>& names,
                                          const std::string& model) const {
  std::vector<size_t> pool;
  for (const std::string& name : names) {
    pool.push_back(static_cast<size_t>(config_.upstream(name) - config_.upstreams.data()));
  }
  if (model.empty()) return pool;
  std::shared_lock lock(slots_mutex_);
  for (size_t i = config_.upstreams.size(); i < slots_.size(); ++i) {
    if (!slots_[i].removed && slots_[i].model == model) pool.push_back(i);
  }
  return pool;
}

size_t Gateway::add_upstream(const std::string& model, UpstreamConfig upstream) {
  std::unique_lock lock(slots_mutex_);
  const size_t index = balancer_.add(upstream.name, upstream.weight);
  slots_.emplace_back(std::move(upstream), model);
  return index;
}

void Gateway::remove_upstream(size_t upstream) {
  balancer_.remove(upstream);
  std::unique_lock lock(slots_mutex_);
  slots_.at(upstream).removed = true;
}

double Gateway::now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

namespace {
void refuse_overloaded_with(obs::Counter& overloaded, http::ResponseWriter& writer) {
  overloaded.inc();
  http::send_api_error(writer,
                       {.status = 503,
                        .message = "the gateway is at its limit of concurrent requests; retry shortly",
                        .type = "server_error",
                        .code = "gateway_overloaded"},
                       {{"Retry-After", "1"}});
}
}  // namespace

bool Gateway::admission_blocks() const {
  return !config_.redis.url.empty() || is_postgres_location(config_.keys_db) || demand_hook_ != nullptr;
}

void Gateway::finish(RequestTrace& trace, int status) {
  metrics_.requests(trace.route, status).inc();
  metrics_.latency(trace.route).observe(now() - trace.started);
  if (usage_ && trace.usage.key_id != 0) {
    trace.usage.unix_time = static_cast<int64_t>(std::time(nullptr));
    trace.usage.error = status >= 400;
    trace.usage.latency_s = now() - trace.started;
    usage_->record(std::move(trace.usage));
  }
  --in_flight_;
}

void Gateway::handle(http::Request request, std::shared_ptr<http::ResponseWriter> writer) {
  auto refuse_overloaded = [this](http::ResponseWriter& w) {
    refuse_overloaded_with(metrics_.overloaded, w);
  };
  if (request.method == "GET" && request.path == "/health") {
    writer->send(200, "application/json", R"({"status":"ok"})");
  } else if (request.method == "GET" && request.path == "/metrics") {
    writer->send(200, obs::kTextContentType, render_metrics());
  } else if (request.method == "GET" && request.path == "/v1/models") {
    serve_models(request, *writer);
  } else if (std::find(std::begin(kApiRoutes), std::end(kApiRoutes), request.path) != std::end(kApiRoutes)) {
    if (request.method != "POST") {
      http::send_api_error(*writer, {.status = 405,
                                     .message = "use POST for " + request.path,
                                     .type = "invalid_request_error",
                                     .code = "method_not_allowed"});
      return;
    }
    // Taken first, then checked: a check and a separate increment let io threads overshoot.
    if (in_flight_.fetch_add(1) >= config_.limits.max_concurrent) {
      --in_flight_;
      refuse_overloaded(*writer);
      return;
    }
    // finish() takes it back.
    if (!admission_blocks()) {
      serve_api(std::move(request), std::move(writer));
      return;
    }
    auto serve = [this, request = std::move(request), writer]() mutable {
      serve_api(std::move(request), std::move(writer));
    };
    if (!workers_.try_run(std::move(serve))) {
      --in_flight_;
      refuse_overloaded(*writer);
    }
  } else {
    http::send_api_error(*writer, {.status = 404,
                                   .message = "no route " + request.method + " " + request.path,
                                   .type = "invalid_request_error",
                                   .code = "not_found"});
  }
}

void Gateway::serve_api(http::Request request, std::shared_ptr<http::ResponseWriter> writer) {
  RequestTrace trace{request.path, now(), {}};
  UsageRecord& usage = trace.usage;  // recorded once the key is known
  auto finish = [&](int status) { this->finish(trace, status); };
  const std::string secret = bearer_token(request);
  if (secret.empty()) {
    metrics_.unauthorized.inc();
    http::send_api_error(*writer, unauthorized("missing API key: send 'Authorization: Bearer KEY'"));
    return finish(401);
  }
  auto key = keys_.find(secret);
  if (!key.ok()) {
    http::send_api_error(*writer, {.status = 500, .message = key.error(), .type = "server_error"});
    return finish(500);
  }
  if (!key->has_value()) {
    metrics_.unauthorized.inc();
    http::send_api_error(*writer, unauthorized("invalid or revoked API key"));
    return finish(401);
  }
  const KeyRecord& record = **key;
  usage.key_id = record.id;
  const auto tier_it = config_.tiers.find(record.tier);
  if (tier_it == config_.tiers.end()) {
    metrics_.forbidden.inc();
    http::send_api_error(*writer,
                         {.status = 403,
                          .message = "the key's tier '" + record.tier + "' is not configured on this gateway",
                          .type = "permission_error",
                          .code = "tier_not_configured"});
    return finish(403);
  }
  const TierConfig& tier = tier_it->second;

  boost::system::error_code ec;
  // The tree lives only in this function (what leaves it is serialized): it is built in a
  // stack buffer (heap only past it) instead of a dozen allocations per request.
  unsigned char json_buffer[4096];
  json::monotonic_resource json_memory(json_buffer, sizeof json_buffer);
  json::value body = json::parse(request.body, ec, &json_memory);
  if (ec || !body.is_object()) {
    http::send_api_error(*writer, {.status = 400,
                                   .message = "the request body must be a JSON object",
                                   .type = "invalid_request_error"});
    return finish(400);
  }
  json::object& o = body.as_object();
  const json::value* model_value = o.if_contains("model");
  if (!model_value || !model_value->is_string() || model_value->as_string().empty()) {
    http::send_api_error(
        *writer,
        {.status = 400, .message = "'model' is required", .type = "invalid_request_error", .param = "model"});
    return finish(400);
  }
  const std::string requested(model_value->as_string());
  usage.model = requested;
  const RouteConfig* route = find_route(config_, requested);
  if (!route) {
    http::send_api_error(*writer,
                         {.status = 404,
                          .message = "The model '" + requested + "' does not exist or is not routed here",
                          .type = "invalid_request_error",
                          .param = "model",
                          .code = "model_not_found"});
    return finish(404);
  }
  const std::string canonical = route->model == "*" ? requested : route->model;
  usage.model = canonical;
  if (!tier_allows(tier, requested, canonical)) {
    metrics_.forbidden.inc();
    http::send_api_error(*writer,
                         {.status = 403,
                          .message = "tier '" + tier.name + "' may not use model '" + requested + "'",
                          .type = "permission_error",
                          .param = "model",
                          .code = "model_not_allowed"});
    return finish(403);
  }
  QuotaVerdict quota = quota_->check(record.id, tier.monthly_tokens);
  if (!quota.allowed) {
    metrics_.limited_monthly_tokens.inc();
    http::send_api_error(*writer,
                         {.status = 429,
                          .message = "You exceeded your current quota: the monthly token quota of tier '" +
                                     tier.name + "' (" + std::to_string(quota.limit) +
                                     " tokens) is used up until " + utc_timestamp(quota.reset_unix),
                          .type = "insufficient_quota",
                          .code = "insufficient_quota"},
                         std::move(quota.headers));
    return finish(429);
  }
  LimitVerdict verdict = limiter_->admit(record.id, tier.requests_per_minute, tier.tokens_per_minute, now());
  if (!verdict.allowed) {
    (verdict.limit == "tokens" ? metrics_.limited_tokens : metrics_.limited_requests).inc();
    verdict.headers.emplace_back("Retry-After",
                                 std::to_string(static_cast<int64_t>(std::ceil(verdict.retry_after_s))));
    http::send_api_error(
        *writer,
        {.status = 429,
         .message = "rate limit of tier '" + tier.name + "' reached; retry after the time in Retry-After",
         .type = "requests",
         .code = "rate_limit_exceeded"},
        std::move(verdict.headers));
    return finish(429);
  }

  ProxyRequest job;
  o["model"] = canonical;
  if (route->sticky_prefix) {
    // Before priority and stream_options are added: the prompt alone decides.
    if (auto prefix = prompt_prefix(request.path, o, route->sticky_prefix_bytes)) {
      job.affinity = stable_hash(*prefix);
    }
  }
  if (cache_ && is_deterministic(o)) job.cache_key = cache_key(request.path, o);
  // Usually the only change to the body is the tier's priority, added in front of the client's
  // bytes; a renamed model, a priority of the client's own or stream options re-serialize it.
  bool rewrite = requested != canonical || o.contains("priority");
  const json::value* stream = o.if_contains("stream");
  const bool openai = request.path.starts_with("/v1/");
  if (openai && stream && stream->is_bool() && stream->as_bool() && request.path != "/v1/embeddings") {
    json::value& options = o["stream_options"];
    job.strip_usage_chunk = !(options.is_object() && options.as_object().contains("include_usage"));
    if (!options.is_object()) options.emplace_object();
    options.as_object()["include_usage"] = true;
    rewrite = true;
  }
  if (rewrite) {
    o["priority"] = tier.priority;
    job.body = json::serialize(body);
  } else {
    job.body = with_priority_first(request.body, tier.priority);
  }
  job.request = std::move(request);
  job.writer = writer;
  job.route = route;
  job.limit_headers = std::move(verdict.headers);
  job.limit_headers.insert(job.limit_headers.end(), quota.headers.begin(), quota.headers.end());
  job.key_id = record.id;
  job.tokens_per_minute = tier.tokens_per_minute;
  job.monthly_tokens = tier.monthly_tokens;
  if (!job.cache_key.empty() && serve_cached(job)) {
    usage.upstream = job.answered_by;
    usage.prompt_tokens = job.usage.prompt_tokens;
    usage.completion_tokens = job.usage.completion_tokens;
    return finish(200);
  }
  // No replica came up in time: the route's fallback pool answers if it has one.
  if (demand_hook_ && !demand_hook_(canonical) && route->fallback.empty()) {
    return finish(refuse_cold(job, canonical));
  }
  start_proxy(std::move(job), std::move(trace));
}

int Gateway::refuse_cold(const ProxyRequest& job, const std::string& model) {
  http::Headers headers = job.limit_headers;
  headers.emplace_back("Retry-After", "5");
  http::send_api_error(*job.writer,
                       {.status = 503,
                        .message = "no replica of '" + model + "' could be started in time; retry shortly",
                        .type = "server_error",
                        .code = "model_starting"},
                       std::move(headers));
  return 503;
}

bool Gateway::serve_cached(ProxyRequest& job) {
  const std::shared_ptr<const CachedAnswer> hit = cache_->get(job.cache_key, now());
  if (!hit) {
    metrics_.cache_misses.inc();
    return false;
  }
  metrics_.cache_hits.inc();
  http::Headers headers = job.limit_headers;
  headers.emplace_back("x-cache", "hit");
  if (hit->streamed) {
    job.writer->begin_stream(200, hit->content_type, std::move(headers));
    for (const std::string& event : hit->pieces) {
      if (!job.writer->write(event)) break;
    }
    job.writer->end();
  } else {
    job.writer->send(200, hit->content_type, hit->pieces.empty() ? "" : hit->pieces.front(),
                     std::move(headers));
  }
  job.answered_by = "cache";
  job.usage = hit->usage;
  // The key gets the answer's tokens whoever computed them: limits count what a key receives.
  charge_tokens(job);
  return true;
}

void Gateway::store_in_cache(const ProxyRequest& job, CachedAnswer answer) {
  answer.usage = job.usage;
  cache_->put(job.cache_key, std::move(answer), now());
}

void Gateway::serve_models(const http::Request& request, http::ResponseWriter& writer) {
  auto key = keys_.find(bearer_token(request));
  if (!key.ok() || !key->has_value()) {
    http::send_api_error(writer, unauthorized("invalid or missing API key"));
    return;
  }
  json::array data;
  for (const RouteConfig& r : config_.routes) {
    if (r.model == "*") continue;
    data.push_back(json::object{{"id", r.model}, {"object", "model"}, {"owned_by", "genstack"}});
    for (const std::string& alias : r.aliases) {
      data.push_back(json::object{{"id", alias}, {"object", "model"}, {"owned_by", "genstack"}});
    }
  }
  writer.send(200, "application/json", json::serialize(json::object{{"object", "list"}, {"data", data}}));
}

std::string Gateway::render_metrics() {
  registry_.gauge("genstack_gateway_requests_in_flight", "Proxied requests in flight.")
      .set(static_cast<double>(in_flight_.load()));
  if (const auto contents = cache_ ? cache_->contents() : std::nullopt) {
    registry_.gauge("genstack_gateway_cache_bytes", "Bytes held by the response cache.")
        .set(static_cast<double>(contents->bytes));
    registry_.gauge("genstack_gateway_cache_entries", "Answers held by the response cache.")
        .set(static_cast<double>(contents->entries));
  }
  for (const UpstreamStats& s : balancer_.stats(now())) {
    const obs::Labels labels{{"upstream", s.name}};
    registry_.gauge("genstack_gateway_upstream_healthy", "1 when the last health check passed.", labels)
        .set(s.healthy ? 1 : 0);
    registry_.gauge("genstack_gateway_upstream_ejected", "1 while the circuit breaker is open.", labels)
        .set(s.breaker == BreakerState::kClosed ? 0 : 1);
    registry_.gauge("genstack_gateway_upstream_outstanding", "Requests in flight to the upstream.", labels)
        .set(static_cast<double>(s.outstanding));
  }
  return registry_.render();
}

void Gateway::check_health() {
  const size_t count = balancer_.size();
  for (size_t i = 0; i < count; ++i) {
    {
      std::shared_lock lock(slots_mutex_);
      if (slots_[i].removed) continue;
    }
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(config_.health.timeout_s * 1000));
    balancer_.set_health(i, probe(slot(i).address, config_.health.path, timeout), now());
  }
}

Status run_gateway(const Config& config) { return run_gateway(config, GatewayHooks{}); }

Status run_gateway(const Config& config, const GatewayHooks& hooks) {
  sigset_t signals = block_shutdown_signals();

  for (const UpstreamConfig& u : config.upstreams) {  // a bad CA file stops start-up, not requests
    if (u.tls) GS_RETURN_IF_ERROR(make_tls_client(u.ca_file, u.tls_verify).status().with_context(u.name));
  }
  GS_ASSIGN_OR_RETURN(auto keys, open_key_store(config.keys_db));
  GS_ASSIGN_OR_RETURN(auto usage_store, UsageStore::open(usage_db_path(config.keys_db)));
  UsageRecorder usage(*usage_store);
  Gateway gateway(config, *keys, &usage);
  if (hooks.attach) hooks.attach(gateway);
  struct Detach {  // also when the server fails to start
    const GatewayHooks& hooks;
    ~Detach() {
      if (hooks.stopped) hooks.stopped();
    }
  } detach{hooks};
  http::ServerOptions options;
  options.host = config.listen_host;
  options.port = config.listen_port;
  options.max_body_bytes = config.limits.max_body_bytes;
  options.io_threads = config.io_threads;
  options.tls_cert_file = config.tls.cert;
  options.tls_key_file = config.tls.key;
  GS_ASSIGN_OR_RETURN(
      auto server,
      http::Server::create(options, [&gateway](http::Request r, std::shared_ptr<http::ResponseWriter> w) {
        gateway.handle(std::move(r), std::move(w));
      }));
  std::printf("genstack: gateway listening on %s://%s:%u\n", config.tls.cert.empty() ? "http" : "https",
              config.listen_host.c_str(), server->port());
  std::fflush(stdout);

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    double next_check = 0;
    const timespec tick{0, 100'000'000};
    while (!done) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        std::fprintf(stderr, "genstack: gateway shutting down\n");
        server->stop(std::chrono::seconds(10));
        return;
      }
      if (gateway.now() >= next_check) {
        gateway.check_health();
        next_check = gateway.now() + config.health.interval_s;
      }
    }
  });
  server->run();
  done = true;
  watcher.join();
  gateway.close_connections();
  return Status::Ok();
}

}  // namespace gs::gateway
