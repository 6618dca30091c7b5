// Monthly token quotas (a tier's monthly_tokens): the prompt + completion
// tokens a key used in the current UTC calendar month. A key's count is
// seeded from the usage store at its first use in a month, so it survives a
// gateway restart, then kept in this process (MemoryQuotaCounter) or in
// Redis (RedisQuotaCounter), where several gateways share it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "gateway/config.h"
#include "gateway/redis_client.h"
#include "http/server.h"

namespace gs::gateway {

// "YYYY-MM" of a Unix time, in UTC.
std::string utc_month(int64_t unix_time);
// The first second (Unix time) of the UTC month after the one `unix_time` is in.
int64_t next_month_start(int64_t unix_time);
// "2025-07-01T00:00:00Z".
std::string utc_timestamp(int64_t unix_time);

// Tokens `key` used in `month` ("YYYY-MM") as the usage store has them.
using QuotaSeed = std::function<Result<int64_t>(int64_t key, const std::string& month)>;

// Where the counts live.
class QuotaCounter {
 public:
  virtual ~QuotaCounter() = default;
  // Tokens `key` used in `month`; asks `seed` when the counter has no count for them yet.
  virtual Result<int64_t> used(int64_t key, const std::string& month, const QuotaSeed& seed) = 0;
  // Adds `tokens` to the count (seeded first, as by used()).
  virtual Status add(int64_t key, const std::string& month, int64_t tokens, const QuotaSeed& seed) = 0;
};

// One count per key, for the latest month it was used in.
class MemoryQuotaCounter : public QuotaCounter {
 public:
  Result<int64_t> used(int64_t key, const std::string& month, const QuotaSeed& seed) override;
  Status add(int64_t key, const std::string& month, int64_t tokens, const QuotaSeed& seed) override;

 private:
  struct Count {
    std::string month;
    int64_t tokens = 0;
  };
  std::mutex mutex_;
  std::map<int64_t, Count> keys_;
};

// The count is the Redis string genstack:gateway:quota:KEY_ID:YYYY-MM (SET
// from the seed with NX, so the first gateway's seed wins, then INCRBY),
// expiring after kExpiryS. While Redis cannot be reached: counts in this
// process (logged once), so that an outage does not take the API down.
class RedisQuotaCounter : public QuotaCounter {
 public:
  explicit RedisQuotaCounter(const RedisConfig& config);
  Result<int64_t> used(int64_t key, const std::string& month, const QuotaSeed& seed) override;
  Status add(int64_t key, const std::string& month, int64_t tokens, const QuotaSeed& seed) override;

  static constexpr int64_t kExpiryS = 40 * 24 * 3600;  // outlives the month it counts

 private:
  Result<int64_t> shared_used(int64_t key, const std::string& month, const QuotaSeed& seed);
  Status shared_add(int64_t key, const std::string& month, int64_t tokens, const QuotaSeed& seed);
  void report(const Status& status);
  RedisClient client_;
  MemoryQuotaCounter local_;
  bool down_ = false;
  std::mutex report_mutex_;
};

struct QuotaVerdict {
  bool allowed = true;
  int64_t limit = 0;
  int64_t used = 0;
  int64_t reset_unix = 0;  // when the next month starts
  http::Headers headers;   // x-quota-limit-tokens, -remaining-tokens, x-quota-reset; empty when unlimited
};

class MonthlyQuota {
 public:
  using Clock = std::function<int64_t()>;  // Unix seconds
  MonthlyQuota(std::unique_ptr<QuotaCounter> counter, QuotaSeed seed, Clock clock);

  // Whether `key` may send a request under a quota of `monthly_tokens` (0:
  // unlimited): while it used fewer. One answer may overdraw it (tokens are
  // known only afterwards); the requests after it are refused.
  QuotaVerdict check(int64_t key, int64_t monthly_tokens);
  void charge(int64_t key, int64_t monthly_tokens, int64_t tokens);

 private:
  std::unique_ptr<QuotaCounter> counter_;
  QuotaSeed seed_;
  Clock clock_;
};

}  // namespace gs::gateway
