// Forwarding one request: upstream choice with retries before the first
// byte, failover to the route's fallback pool, and the streaming relay.
#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "gateway/gateway_internal.h"
#include "gateway/stream_relay.h"
#include "http/api_error.h"

namespace gs::gateway {
namespace asio = boost::asio;
namespace {

constexpr size_t kMaxBufferedBody = 64u << 20;  // a non-streamed answer (embeddings can be large)
constexpr size_t kMaxErrorBody = 1u << 20;

// Lets the client's disconnect cancel whichever upstream call is current.
// Used on the connection's strand only (the proxy coroutine and the
// on_disconnect callback both run there), so it needs no lock.
class CancelSlot {
 public:
  void set(UpstreamCall* call) {
    call_ = call;
    if (cancelled_ && call_) call_->cancel();
  }
  void cancel() {
    cancelled_ = true;
    if (call_) call_->cancel();
  }
  bool cancelled() const { return cancelled_; }

 private:
  UpstreamCall* call_ = nullptr;
  bool cancelled_ = false;
};

ProxyRequest::Reply error_reply(const http::ApiError& error, http::Headers headers) {
  return {error.status, "application/json", http::error_body(error), std::move(headers)};
}

std::optional<StreamFormat> stream_format(std::string_view content_type) {
  if (content_type.starts_with("text/event-stream")) return StreamFormat::kSse;
  if (content_type.starts_with("application/x-ndjson")) return StreamFormat::kNdjson;
  return std::nullopt;
}

}  // namespace

struct Gateway::Attempt {
  std::vector<size_t> tried;
  std::shared_ptr<CancelSlot> slot = std::make_shared<CancelSlot>();
  std::string last_error;
  // The last 5xx answer, passed on when no upstream does better.
  int failed_status = 0;
  std::string failed_body;
  std::string failed_type;
  bool timed_out = false;  // the last failure was an upstream that did not answer in time
  bool next_pool = false;  // the prompt is too long for this pool's model: on to the fallback pool
  bool stop = false;       // the failed answer is final (a client error): pass it on now
  int status = 0;          // what the client got
};

void Gateway::start_proxy(ProxyRequest job, RequestTrace trace) {
  auto executor = job.writer->io_executor();
  if (!executor) return finish(trace, 499);  // the client is gone already
  asio::co_spawn(std::move(executor), proxy(std::move(job), std::move(trace)), asio::detached);
}

asio::awaitable<void> Gateway::proxy(ProxyRequest job, RequestTrace trace) {
  int status = 500;
  try {
    status = co_await forward(job);
  } catch (const std::exception& e) {  // allocation failure and the like: answer, keep serving
    std::fprintf(stderr, "genstack: gateway: proxy: %s\n", e.what());
    http::send_api_error(*job.writer,
                         {.status = 500, .message = "internal error in the gateway", .type = "server_error"});
  }
  trace.usage.upstream = job.answered_by;
  trace.usage.prompt_tokens = job.usage.prompt_tokens;
  trace.usage.completion_tokens = job.usage.completion_tokens;
  finish(trace, status);
  if (job.reply) {
    job.writer->send(job.reply->status, job.reply->content_type, std::move(job.reply->body),
                     std::move(job.reply->headers));
  }
}

asio::awaitable<int> Gateway::forward(ProxyRequest& job) {
  Attempt attempt;
  job.writer->on_disconnect([slot = attempt.slot] { slot->cancel(); });
  const std::array<const std::vector<std::string>*, 2> pools{&job.route->pool, &job.route->fallback};
  for (const std::vector<std::string>* names : pools) {
    const std::vector<size_t> pool = pool_indices(*names, names == &job.route->pool ? job.route->model : "");
    for (int n = 0; n < config_.limits.max_attempts; ++n) {
      if (attempt.slot->cancelled()) co_return 499;  // nginx's "client closed request"
      const int chosen = balancer_.choose(pool, attempt.tried, now(), job.affinity);
      if (chosen < 0) break;
      if (!attempt.tried.empty()) metrics_.retries.inc();
      attempt.tried.push_back(static_cast<size_t>(chosen));
      if (co_await try_upstream(job, static_cast<size_t>(chosen), attempt)) co_return attempt.status;
      if (attempt.stop) break;
      if (attempt.next_pool) break;
    }
    attempt.next_pool = false;
    if (attempt.stop) break;
  }
  if (attempt.failed_status != 0) {
    job.reply = ProxyRequest::Reply{attempt.failed_status, std::move(attempt.failed_type),
                                    std::move(attempt.failed_body), job.limit_headers};
    co_return attempt.failed_status;
  }
  const std::string why =
      attempt.last_error.empty() ? "every upstream is ejected or unhealthy" : attempt.last_error;
  const http::ApiError error = attempt.timed_out
                                   ? http::ApiError{.status = 504,
                                                    .message = "no upstream answered in time: " + why,
                                                    .type = "server_error",
                                                    .code = "upstream_timeout"}
                                   : http::ApiError{.status = 503,
                                                    .message = "no upstream could take the request: " + why,
                                                    .type = "server_error",
                                                    .code = "upstream_unavailable"};
  job.reply = error_reply(error, job.limit_headers);
  co_return error.status;
}

void Gateway::record(size_t upstream, Balancer::Outcome outcome) {
  if (!balancer_.finish(upstream, outcome, now())) return;
  const std::string& name = slot(upstream).config.name;
  metrics_.ejections(name).inc();
  std::fprintf(stderr, "genstack: gateway: upstream %s ejected after %d consecutive failures\n", name.c_str(),
               config_.ejection.consecutive_failures);
}

asio::awaitable<bool> Gateway::try_upstream(ProxyRequest& job, size_t upstream, Attempt& attempt) {
  const UpstreamSlot& target = slot(upstream);
  const UpstreamConfig& u = target.config;
  const CallTimeouts timeouts{
      std::chrono::milliseconds(static_cast<int64_t>(config_.limits.connect_timeout_s * 1000)),
      std::chrono::milliseconds(static_cast<int64_t>(config_.limits.upstream_timeout_s * 1000))};
  if (!target.tls_error.empty()) {
    record(upstream, Balancer::Outcome::kFailure);
    attempt.last_error = u.name + ": " + target.tls_error;
    co_return false;
  }
  UpstreamCall call(co_await asio::this_coro::executor, target.address, *target.pool, timeouts);
  attempt.slot->set(&call);
  struct Unset {
    CancelSlot& slot;
    ~Unset() { slot.set(nullptr); }
  } unset{*attempt.slot};

  const Status started =
      co_await call.start(job.request.method, job.request.target, target.headers, job.body);
  if (!started.ok()) {
    record(upstream, attempt.slot->cancelled() ? Balancer::Outcome::kAborted : Balancer::Outcome::kFailure);
    attempt.last_error = u.name + ": " + started.message();
    attempt.timed_out = call.timed_out();
    co_return false;
  }
  // Nothing reached the client yet, so another upstream may do better: after a
  // 5xx, when this one is saturated (429), or when the prompt is too long for
  // the pool's model and the route has a fallback pool (a larger context).
  const int status = call.status();
  const bool in_pool =
      std::find(job.route->fallback.begin(), job.route->fallback.end(), u.name) == job.route->fallback.end();
  const bool context_fallback = status == 400 && in_pool && !job.route->fallback.empty();
  if (status >= 500 || status == 429 || context_fallback) {
    std::string body;
    while (!call.done() && body.size() < kMaxErrorBody) {
      auto piece = co_await call.read_some();
      if (!piece.ok()) break;
      body += *piece;
    }
    const bool too_long = body.find("context_length_exceeded") != std::string::npos;
    record(upstream, status >= 500 ? Balancer::Outcome::kFailure : Balancer::Outcome::kAborted);
    attempt.last_error = u.name + ": HTTP " + std::to_string(status);
    attempt.failed_status = status;
    attempt.failed_type = call.header("Content-Type");
    attempt.failed_body = std::move(body);
    attempt.timed_out = false;
    attempt.next_pool = status == 400 && too_long;
    attempt.stop = status == 400 && !too_long;
    co_return false;
  }
  co_await relay(job, call, upstream, attempt);
  co_return true;
}

asio::awaitable<Balancer::Outcome> Gateway::relay_stream(ProxyRequest& job, UpstreamCall& call,
                                                         StreamFormat format, const std::string& name,
                                                         const http::Headers& headers, Usage& usage) {
  EventSplitter splitter(format);
  job.writer->begin_stream(call.status(), call.header("Content-Type"), headers);
  // The events as the client got them, for the cache (dropped past its size bound).
  bool capturing = !job.cache_key.empty() && call.status() == 200;
  CachedAnswer captured{call.header("Content-Type"), true, {}, {}};
  size_t captured_bytes = 0;
  auto fail = [&](const std::string& why, std::string_view code) {
    metrics_.stream_interruptions.inc();
    job.writer->write(stream_error_event(format, "upstream " + name + " " + why, code));
    job.writer->end();
    call.cancel();
    return Balancer::Outcome::kFailure;
  };
  while (!call.done()) {
    auto piece = co_await call.read_some();
    if (!piece.ok()) {
      if (job.writer->client_gone()) co_return Balancer::Outcome::kAborted;
      co_return fail("broke off the stream: " + piece.error(), "stream_interrupted");
    }
    for (std::string& event : splitter.feed(*piece)) {
      if (const std::string bad = malformed_event_reason(format, event); !bad.empty()) {
        co_return fail("sent a malformed stream: " + bad, "upstream_malformed");
      }
      if (scan_usage(event, usage) && job.strip_usage_chunk) continue;
      captured_bytes += event.size();
      capturing = capturing && captured_bytes <= cache_->max_bytes();
      if (capturing) captured.pieces.push_back(event);
      if (!job.writer->write(std::move(event))) {
        call.cancel();
        co_return Balancer::Outcome::kAborted;
      }
    }
  }
  if (splitter.partial().find_first_not_of(" \t\r\n") != std::string::npos) {
    co_return fail("ended the stream in the middle of an event", "upstream_malformed");
  }
  job.writer->end();
  if (capturing) store_in_cache(job, std::move(captured));
  co_return Balancer::Outcome::kSuccess;
}

asio::awaitable<void> Gateway::relay(ProxyRequest& job, UpstreamCall& call, size_t upstream,
                                     Attempt& attempt) {
  const std::string& name = slot(upstream).config.name;
  const std::string content_type = call.header("Content-Type");
  http::Headers headers = job.limit_headers;
  headers.emplace_back("x-genstack-upstream", name);
  if (cache_) headers.emplace_back("x-cache", "miss");
  attempt.status = call.status();
  job.answered_by = name;
  Usage& usage = job.usage;
  auto outcome = Balancer::Outcome::kSuccess;
  const auto format = stream_format(content_type);
  if (!format) {
    std::string body;
    while (!call.done()) {
      auto piece = co_await call.read_some();
      if (!piece.ok() || body.size() + piece->size() > kMaxBufferedBody) {
        outcome = attempt.slot->cancelled() ? Balancer::Outcome::kAborted : Balancer::Outcome::kFailure;
        attempt.status = 502;
        job.reply = error_reply({.status = 502,
                                 .message = "upstream " + name + " failed mid-answer: " +
                                            (piece.ok() ? std::string("answer too large") : piece.error()),
                                 .type = "server_error",
                                 .code = "upstream_error"},
                                headers);
        break;
      }
      body += *piece;
    }
    if (attempt.status != 502) {
      scan_answer_usage(body, usage);
      if (!job.cache_key.empty() && call.status() == 200)
        store_in_cache(job, {content_type, false, {body}, {}});
      job.reply = ProxyRequest::Reply{call.status(), content_type, std::move(body), std::move(headers)};
    }
  } else {
    outcome = co_await relay_stream(job, call, *format, name, headers, usage);
  }
  record(upstream, outcome);
  charge_tokens(job);
}

void Gateway::charge_tokens(const ProxyRequest& job) {
  if (!job.usage.seen) return;
  const int64_t tokens = job.usage.prompt_tokens + job.usage.completion_tokens;
  quota_->charge(job.key_id, job.monthly_tokens, tokens);
  if (job.tokens_per_minute <= 0) return;
  limiter_->charge_tokens(job.key_id, job.tokens_per_minute, static_cast<double>(tokens), now());
}

}  // namespace gs::gateway
