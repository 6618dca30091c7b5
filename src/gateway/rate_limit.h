// Per-key request and token budgets as token buckets (a tier's
// requests_per_minute and tokens_per_minute), with the numbers OpenAI's
// x-ratelimit-* headers report. Time is passed in (seconds, monotonic) so
// tests drive it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "http/server.h"

namespace gs::gateway {

// Holds up to `capacity` units and refills continuously at capacity per
// `period_s`. Tokens are charged after the response, so the level may go
// below zero; requests then wait until it is positive again.
class TokenBucket {
 public:
  TokenBucket(double capacity, double period_s, double now);

  bool try_take(double n, double now);  // takes nothing when short
  void charge(double n, double now);    // takes even when short
  double level(double now);
  // Seconds until the bucket holds `n` again (0 when it does).
  double seconds_until(double n, double now);
  // Seconds until the bucket is full.
  double seconds_to_full(double now);
  double capacity() const { return capacity_; }

 private:
  void refill(double now);
  double capacity_;
  double rate_per_s_;
  double level_;
  double last_;
};

struct LimitVerdict {
  bool allowed = true;
  double retry_after_s = 0;  // when !allowed
  std::string limit;         // when !allowed: "requests" or "tokens"
  http::Headers headers;     // x-ratelimit-* for this key (empty when unlimited)
};

// "1s", "6m0s", "20ms", as OpenAI writes its reset times.
std::string format_reset(double seconds);

// Appends x-ratelimit-limit-WHAT, -remaining-WHAT and -reset-WHAT.
void add_limit_headers(http::Headers& headers, std::string_view what, double capacity, double level,
                       double seconds_to_full);

// Where the buckets live: in this process (RateLimiter) or in Redis, shared
// by several gateways (RedisRateLimiter, redis_limiter.h).
class Limiter {
 public:
  virtual ~Limiter() = default;
  // Admits one request of `key` (its tier's limits; 0 = unlimited) or says when to retry.
  virtual LimitVerdict admit(int64_t key, double requests_per_minute, double tokens_per_minute,
                             double now) = 0;
  // Charges the tokens a response used to a key whose tier has this tokens_per_minute.
  virtual void charge_tokens(int64_t key, double tokens_per_minute, double tokens, double now) = 0;
};

class RateLimiter : public Limiter {
 public:
  LimitVerdict admit(int64_t key, double requests_per_minute, double tokens_per_minute, double now) override;
  void charge_tokens(int64_t key, double tokens_per_minute, double tokens, double now) override;

 private:
  struct Buckets {
    double rpm = 0, tpm = 0;
    std::optional<TokenBucket> requests, tokens;
  };
  Buckets& buckets_for(int64_t key, double rpm, double tpm, double now);
  std::mutex mutex_;
  std::map<int64_t, Buckets> keys_;
};

}  // namespace gs::gateway
