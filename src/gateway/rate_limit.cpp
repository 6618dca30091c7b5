#include "gateway/rate_limit.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace gs::gateway {

TokenBucket::TokenBucket(double capacity, double period_s, double now)
    : capacity_(capacity), rate_per_s_(capacity / period_s), level_(capacity), last_(now) {}

void TokenBucket::refill(double now) {
  if (now > last_) {
    level_ = std::min(capacity_, level_ + (now - last_) * rate_per_s_);
    last_ = now;
  }
}

bool TokenBucket::try_take(double n, double now) {
  refill(now);
  if (level_ < n) return false;
  level_ -= n;
  return true;
}

void TokenBucket::charge(double n, double now) {
  refill(now);
  level_ -= n;
}

double TokenBucket::level(double now) {
  refill(now);
  return level_;
}

double TokenBucket::seconds_until(double n, double now) {
  refill(now);
  return level_ >= n ? 0 : (n - level_) / rate_per_s_;
}

double TokenBucket::seconds_to_full(double now) { return seconds_until(capacity_, now); }

std::string format_reset(double seconds) {
  if (seconds <= 0) return "0s";
  if (seconds < 1) return fmt::format("{}ms", static_cast<int64_t>(std::ceil(seconds * 1000)));
  const auto whole = static_cast<int64_t>(std::ceil(seconds));
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m{}s", whole / 60, whole % 60);
  return fmt::format("{}h{}m{}s", whole / 3600, whole / 60 % 60, whole % 60);
}

void add_limit_headers(http::Headers& headers, std::string_view what, double capacity, double level,
                       double seconds_to_full) {
  headers.emplace_back(fmt::format("x-ratelimit-limit-{}", what), fmt::format("{}", capacity));
  headers.emplace_back(fmt::format("x-ratelimit-remaining-{}", what),
                       fmt::format("{}", std::max(0.0, std::floor(level))));
  headers.emplace_back(fmt::format("x-ratelimit-reset-{}", what), format_reset(seconds_to_full));
}

RateLimiter::Buckets& RateLimiter::buckets_for(int64_t key, double rpm, double tpm, double now) {
  Buckets& b = keys_[key];
  // A changed tier (config reload, key moved) starts with fresh buckets.
  if (b.rpm != rpm || (rpm > 0 && !b.requests)) {
    b.rpm = rpm;
    b.requests.reset();
    if (rpm > 0) b.requests.emplace(rpm, 60.0, now);
  }
  if (b.tpm != tpm || (tpm > 0 && !b.tokens)) {
    b.tpm = tpm;
    b.tokens.reset();
    if (tpm > 0) b.tokens.emplace(tpm, 60.0, now);
  }
  return b;
}

LimitVerdict RateLimiter::admit(int64_t key, double rpm, double tpm, double now) {
  std::lock_guard lock(mutex_);
  Buckets& b = buckets_for(key, rpm, tpm, now);
  LimitVerdict v;
  double wait = 0;
  if (b.tokens && b.tokens->level(now) <= 0) {
    wait = b.tokens->seconds_until(1, now);
    v.limit = "tokens";
  }
  if (b.requests && wait == 0 && !b.requests->try_take(1, now)) {
    wait = b.requests->seconds_until(1, now);
    v.limit = "requests";
  }
  v.allowed = wait == 0;
  v.retry_after_s = wait;
  auto add = [&](const char* what, TokenBucket& bucket) {
    add_limit_headers(v.headers, what, bucket.capacity(), bucket.level(now), bucket.seconds_to_full(now));
  };
  if (b.requests) add("requests", *b.requests);
  if (b.tokens) add("tokens", *b.tokens);
  return v;
}

void RateLimiter::charge_tokens(int64_t key, double /*tokens_per_minute*/, double tokens, double now) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(key);
  if (it != keys_.end() && it->second.tokens) it->second.tokens->charge(tokens, now);
}

}  // namespace gs::gateway
