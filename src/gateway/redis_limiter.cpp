#include "gateway/redis_limiter.h"

#include <cmath>
#include <optional>

#include <fmt/format.h>

namespace gs::gateway {
namespace {

constexpr double kPeriodS = 60;

// KEYS[1]: the bucket (a hash: level, last in ms); ARGV: capacity, period in
// seconds, n, mode. Returns {ok, level as a string} (a Lua number would be
// truncated to an integer). The key expires once the bucket would be full
// again, which is the same as not existing.
constexpr const char* kBucketScript = R"lua(
local capacity = tonumber(ARGV[1])
local period_ms = tonumber(ARGV[2]) * 1000
local n = tonumber(ARGV[3])
local mode = ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'level', 'last')
local level = tonumber(saved[1]) or capacity
local last = tonumber(saved[2]) or now
if now > last then level = math.min(capacity, level + (now - last) * capacity / period_ms) end
local ok = 1
if mode == 'take' then
  if level >= n then level = level - n else ok = 0 end
elseif mode == 'charge' then
  level = level - n
elseif level <= 0 then
  ok = 0
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'last', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - level) * period_ms / capacity) + 1000)
return {ok, tostring(level)}
)lua";

const char* mode_name(RedisRateLimiter::Mode mode) {
  switch (mode) {
    case RedisRateLimiter::Mode::kTake:
      return "take";
    case RedisRateLimiter::Mode::kCharge:
      return "charge";
    case RedisRateLimiter::Mode::kPositive:
      return "positive";
  }
  return "positive";
}

double seconds_until(double capacity, double level, double n) {
  return level >= n ? 0 : (n - level) * kPeriodS / capacity;
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(const RedisConfig& config)
    : client_(config.host, config.port, std::chrono::milliseconds(1000)) {}

Result<RedisRateLimiter::BucketState> RedisRateLimiter::eval(int64_t key, std::string_view what,
                                                             double capacity, double n, Mode mode) {
  // The capacity is part of the name: a tier whose limit changed starts with a fresh bucket.
  const std::string name = fmt::format("genstack:gateway:ratelimit:{}:{}:{}", key, what, capacity);
  GS_ASSIGN_OR_RETURN(RespValue reply,
                      client_.command({"EVAL", kBucketScript, "1", name, fmt::format("{}", capacity),
                                       fmt::format("{}", kPeriodS), fmt::format("{}", n), mode_name(mode)}));
  if (reply.type != RespValue::Type::kArray || reply.elements.size() != 2 ||
      reply.elements[0].type != RespValue::Type::kInteger) {
    return Error("redis: unexpected reply to the rate-limit script");
  }
  char* end = nullptr;
  const double level = std::strtod(reply.elements[1].text.c_str(), &end);
  if (reply.elements[1].text.empty() || *end != '\0') return Error("redis: unexpected bucket level");
  return BucketState{reply.elements[0].integer == 1, level};
}

Result<LimitVerdict> RedisRateLimiter::admit_shared(int64_t key, double rpm, double tpm) {
  LimitVerdict v;
  std::optional<BucketState> tokens, requests;
  if (tpm > 0) {
    GS_ASSIGN_OR_RETURN(tokens, eval(key, "tokens", tpm, 0, Mode::kPositive));
    if (!tokens->ok) {
      v.allowed = false;
      v.limit = "tokens";
      v.retry_after_s = seconds_until(tpm, tokens->level, 1);
    }
  }
  if (rpm > 0 && v.allowed) {
    GS_ASSIGN_OR_RETURN(requests, eval(key, "requests", rpm, 1, Mode::kTake));
    if (!requests->ok) {
      v.allowed = false;
      v.limit = "requests";
      v.retry_after_s = seconds_until(rpm, requests->level, 1);
    }
  }
  if (requests) {
    add_limit_headers(v.headers, "requests", rpm, requests->level, seconds_until(rpm, requests->level, rpm));
  }
  if (tokens)
    add_limit_headers(v.headers, "tokens", tpm, tokens->level, seconds_until(tpm, tokens->level, tpm));
  return v;
}

LimitVerdict RedisRateLimiter::admit(int64_t key, double rpm, double tpm, double now) {
  if (rpm <= 0 && tpm <= 0) return {};
  auto shared = admit_shared(key, rpm, tpm);
  outage_.report(shared.status());
  if (shared.ok()) return std::move(*shared);
  return local_.admit(key, rpm, tpm, now);
}

void RedisRateLimiter::charge_tokens(int64_t key, double tpm, double tokens, double now) {
  if (tpm <= 0) return;
  auto charged = eval(key, "tokens", tpm, tokens, Mode::kCharge);
  outage_.report(charged.status());
  if (!charged.ok()) local_.charge_tokens(key, tpm, tokens, now);
}

}  // namespace gs::gateway
