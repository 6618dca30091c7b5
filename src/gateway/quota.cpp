#include "gateway/quota.h"
#include "gateway/usage.h"

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

namespace gs::gateway {

std::string utc_month(int64_t unix_time) {
  const std::tm tm = utc_calendar(unix_time);
  return fmt::format("{:04}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1);
}

int64_t next_month_start(int64_t unix_time) {
  const std::tm tm = utc_calendar(unix_time);
  std::tm next{};
  next.tm_year = tm.tm_mon == 11 ? tm.tm_year + 1 : tm.tm_year;
  next.tm_mon = (tm.tm_mon + 1) % 12;
  next.tm_mday = 1;
  return static_cast<int64_t>(timegm(&next));
}

std::string utc_timestamp(int64_t unix_time) {
  const std::tm tm = utc_calendar(unix_time);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Result<int64_t> MemoryQuotaCounter::used(int64_t key, const std::string& month, const QuotaSeed& seed) {
  {
    std::lock_guard lock(mutex_);
    const auto it = keys_.find(key);
    if (it != keys_.end() && it->second.month == month) return it->second.tokens;
  }
  // Seeded without the lock: a slow database read must not hold up other keys.
  GS_ASSIGN_OR_RETURN(const int64_t seeded, seed(key, month));
  std::lock_guard lock(mutex_);
  Count& count = keys_[key];
  if (count.month != month) count = {month, seeded};  // else another request seeded it meanwhile
  return count.tokens;
}

Status MemoryQuotaCounter::add(int64_t key, const std::string& month, int64_t tokens, const QuotaSeed& seed) {
  GS_RETURN_IF_ERROR(used(key, month, seed).status());
  std::lock_guard lock(mutex_);
  Count& count = keys_[key];
  if (count.month == month) count.tokens += tokens;  // else a later month took over meanwhile
  return Status::Ok();
}

namespace {

std::string quota_key(int64_t key, const std::string& month) {
  return fmt::format("genstack:gateway:quota:{}:{}", key, month);
}

Result<int64_t> integer_reply(const RespValue& reply) {
  if (reply.type == RespValue::Type::kInteger) return reply.integer;
  if (reply.type == RespValue::Type::kBulk) {
    char* end = nullptr;
    const long long value = std::strtoll(reply.text.c_str(), &end, 10);
    if (!reply.text.empty() && *end == '\0') return static_cast<int64_t>(value);
  }
  return Error("redis: unexpected reply to a quota command");
}

}  // namespace

RedisQuotaCounter::RedisQuotaCounter(const RedisConfig& config)
    : client_(config.host, config.port, std::chrono::milliseconds(1000)) {}

Result<int64_t> RedisQuotaCounter::shared_used(int64_t key, const std::string& month, const QuotaSeed& seed) {
  const std::string name = quota_key(key, month);
  GS_ASSIGN_OR_RETURN(RespValue reply, client_.command({"GET", name}));
  if (reply.type != RespValue::Type::kNull) return integer_reply(reply);
  GS_ASSIGN_OR_RETURN(const int64_t seeded, seed(key, month));
  // NX: when another gateway seeded it meanwhile, its count (with what it added since) stays.
  GS_RETURN_IF_ERROR(
      client_.command({"SET", name, std::to_string(seeded), "NX", "EX", std::to_string(kExpiryS)}).status());
  GS_ASSIGN_OR_RETURN(reply, client_.command({"GET", name}));
  return integer_reply(reply);
}

Status RedisQuotaCounter::shared_add(int64_t key, const std::string& month, int64_t tokens,
                                     const QuotaSeed& seed) {
  GS_RETURN_IF_ERROR(shared_used(key, month, seed).status());  // seeded: INCRBY keeps the expiry
  return client_.command({"INCRBY", quota_key(key, month), std::to_string(tokens)}).status();
}

void RedisQuotaCounter::report(const Status& status) {
  std::lock_guard lock(report_mutex_);
  if (!status.ok() && !down_) {
    std::fprintf(stderr, "genstack: gateway: %s; monthly quotas are per gateway until Redis answers again\n",
                 status.message().c_str());
  } else if (status.ok() && down_) {
    std::fprintf(stderr, "genstack: gateway: Redis answers again; monthly quotas are shared\n");
  }
  down_ = !status.ok();
}

Result<int64_t> RedisQuotaCounter::used(int64_t key, const std::string& month, const QuotaSeed& seed) {
  auto shared = shared_used(key, month, seed);
  report(shared.status());
  if (shared.ok()) return shared;
  return local_.used(key, month, seed);
}

Status RedisQuotaCounter::add(int64_t key, const std::string& month, int64_t tokens, const QuotaSeed& seed) {
  const Status shared = shared_add(key, month, tokens, seed);
  report(shared);
  if (shared.ok()) return shared;
  return local_.add(key, month, tokens, seed);
}

MonthlyQuota::MonthlyQuota(std::unique_ptr<QuotaCounter> counter, QuotaSeed seed, Clock clock)
    : counter_(std::move(counter)), seed_(std::move(seed)), clock_(std::move(clock)) {}

QuotaVerdict MonthlyQuota::check(int64_t key, int64_t monthly_tokens) {
  QuotaVerdict v;
  if (monthly_tokens <= 0) return v;
  const int64_t now = clock_();
  auto used = counter_->used(key, utc_month(now), seed_);
  if (!used.ok()) {  // fail open: a broken usage database must not refuse every request
    std::fprintf(stderr, "genstack: gateway: monthly quota of key %lld not checked: %s\n",
                 static_cast<long long>(key), used.status().message().c_str());
    return v;
  }
  v.limit = monthly_tokens;
  v.used = *used;
  v.reset_unix = next_month_start(now);
  v.allowed = v.used < monthly_tokens;
  v.headers.emplace_back("x-quota-limit-tokens", std::to_string(monthly_tokens));
  v.headers.emplace_back("x-quota-remaining-tokens",
                         std::to_string(std::max<int64_t>(0, monthly_tokens - v.used)));
  v.headers.emplace_back("x-quota-reset", utc_timestamp(v.reset_unix));
  return v;
}

void MonthlyQuota::charge(int64_t key, int64_t monthly_tokens, int64_t tokens) {
  if (monthly_tokens <= 0 || tokens <= 0) return;
  const Status added = counter_->add(key, utc_month(clock_()), tokens, seed_);
  if (!added.ok()) {
    std::fprintf(stderr, "genstack: gateway: %lld tokens of key %lld not counted against its quota: %s\n",
                 static_cast<long long>(tokens), static_cast<long long>(key), added.message().c_str());
  }
}

}  // namespace gs::gateway
