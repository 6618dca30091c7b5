// Rate-limit buckets in Redis, so that several gateways enforce one limit
// per key: each check is one EVAL of a Lua script that refills and takes
// from a bucket atomically, on Redis's clock. When Redis cannot be reached
// the gateway keeps serving with its in-process buckets (and says so on
// stderr) rather than refusing every request.
#pragma once

#include "gateway/config.h"
#include "gateway/rate_limit.h"
#include "gateway/redis_client.h"

namespace gs::gateway {

class RedisRateLimiter : public Limiter {
 public:
  explicit RedisRateLimiter(const RedisConfig& config);

  LimitVerdict admit(int64_t key, double requests_per_minute, double tokens_per_minute, double now) override;
  void charge_tokens(int64_t key, double tokens_per_minute, double tokens, double now) override;

  // The script's modes: take `n` if the bucket holds it; charge `n` even when
  // short; check the bucket is positive.
  enum class Mode { kTake, kCharge, kPositive };
  struct BucketState {
    bool ok = false;
    double level = 0;
  };

 private:
  Result<BucketState> eval(int64_t key, std::string_view what, double capacity, double n, Mode mode);
  Result<LimitVerdict> admit_shared(int64_t key, double rpm, double tpm);
  RedisClient client_;
  RateLimiter local_;  // while Redis is unreachable
  RedisOutageLog outage_{"limits are per gateway until Redis answers again", "limits are shared"};
};

}  // namespace gs::gateway
