// Monthly token quotas: UTC months, seeding from the usage store at a key's
// first use in a month, charging, the verdict's headers, and Redis falling
// back to in-process counts when it cannot be reached. The clock is a
// variable here; nothing reads the real one.
#include <gtest/gtest.h>

#include <filesystem>

#include "gateway/key_store.h"
#include "gateway/quota.h"
#include "gateway/usage.h"

namespace gs::gateway {
namespace {

constexpr int64_t kNov14 = 1700000000;      // 2023-11-14T22:13:20Z
constexpr int64_t kDec1 = 1701388800;       // 2023-12-01T00:00:00Z
constexpr int64_t kJan1_2024 = 1704067200;  // 2024-01-01T00:00:00Z

const char* header(const QuotaVerdict& v, std::string_view name) {
  for (const auto& [k, value] : v.headers) {
    if (k == name) return value.c_str();
  }
  return nullptr;
}

// A seed that says what the usage store would and counts how often it was asked.
struct FakeUsage {
  std::map<std::pair<int64_t, std::string>, int64_t> tokens;
  int calls = 0;
  QuotaSeed seed() {
    return [this](int64_t key, const std::string& month) -> Result<int64_t> {
      ++calls;
      const auto it = tokens.find({key, month});
      return it == tokens.end() ? 0 : it->second;
    };
  }
};

TEST(GatewayQuota, MonthsAreUtcCalendarMonths) {
  EXPECT_EQ(utc_month(kNov14), "2023-11");
  EXPECT_EQ(utc_month(kDec1 - 1), "2023-11");
  EXPECT_EQ(utc_month(kDec1), "2023-12");
  EXPECT_EQ(next_month_start(kNov14), kDec1);
  EXPECT_EQ(next_month_start(kDec1), kJan1_2024);  // December rolls over the year
  EXPECT_EQ(next_month_start(kDec1 + 20 * 86400), kJan1_2024);
  EXPECT_EQ(utc_timestamp(kDec1), "2023-12-01T00:00:00Z");
}

TEST(GatewayQuota, UnlimitedTiersAreNeverCountedNorSeeded) {
  FakeUsage usage;
  MonthlyQuota quota(std::make_unique<MemoryQuotaCounter>(), usage.seed(), [] { return kNov14; });
  const QuotaVerdict v = quota.check(1, 0);
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.headers.empty());
  quota.charge(1, 0, 100);
  EXPECT_EQ(usage.calls, 0);
}

TEST(GatewayQuota, SeedsOncePerMonthThenCountsInMemory) {
  FakeUsage usage;
  usage.tokens[{1, "2023-11"}] = 60;  // used before a restart
  int64_t now = kNov14;
  MonthlyQuota quota(std::make_unique<MemoryQuotaCounter>(), usage.seed(), [&] { return now; });
  QuotaVerdict v = quota.check(1, 100);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.used, 60);
  EXPECT_STREQ(header(v, "x-quota-limit-tokens"), "100");
  EXPECT_STREQ(header(v, "x-quota-remaining-tokens"), "40");
  EXPECT_STREQ(header(v, "x-quota-reset"), "2023-12-01T00:00:00Z");
  quota.charge(1, 100, 30);
  v = quota.check(1, 100);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.used, 90);
  quota.charge(1, 100, 25);  // one answer may overdraw
  v = quota.check(1, 100);
  EXPECT_FALSE(v.allowed);
  EXPECT_STREQ(header(v, "x-quota-remaining-tokens"), "0");
  EXPECT_EQ(usage.calls, 1) << "seeded at the first use only";
  EXPECT_TRUE(quota.check(2, 100).allowed) << "another key has a count of its own";

  now = kDec1 + 5;  // a new month: seeded again (nothing stored yet), the quota is back
  v = quota.check(1, 100);
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.used, 0);
  EXPECT_STREQ(header(v, "x-quota-reset"), "2024-01-01T00:00:00Z");
}

TEST(GatewayQuota, ChargeBeforeAnyCheckSeedsFirst) {
  FakeUsage usage;
  usage.tokens[{7, "2023-11"}] = 10;
  MonthlyQuota quota(std::make_unique<MemoryQuotaCounter>(), usage.seed(), [] { return kNov14; });
  quota.charge(7, 50, 5);
  EXPECT_EQ(quota.check(7, 50).used, 15);
}

TEST(GatewayQuota, AFailingSeedFailsOpen) {
  MonthlyQuota quota(
      std::make_unique<MemoryQuotaCounter>(),
      [](int64_t, const std::string&) -> Result<int64_t> { return Error("database is locked"); },
      [] { return kNov14; });
  const QuotaVerdict v = quota.check(1, 10);
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.headers.empty());
}

TEST(GatewayQuota, RedisOutageFallsBackToCountsInThisProcess) {
  RedisConfig redis{"redis://127.0.0.1:1", "127.0.0.1", "1"};  // nothing listens on port 1
  FakeUsage usage;
  usage.tokens[{3, "2023-11"}] = 8;
  MonthlyQuota quota(std::make_unique<RedisQuotaCounter>(redis), usage.seed(), [] { return kNov14; });
  EXPECT_TRUE(quota.check(3, 10).allowed);
  quota.charge(3, 10, 2);
  const QuotaVerdict v = quota.check(3, 10);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.used, 10);
}

TEST(GatewayQuota, UsageStoreSumsTheMonthOfOneKey) {
  const auto dir = std::filesystem::temp_directory_path() / "gs_quota_test";
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "gateway.db").string();
  auto keys = SqliteKeyStore::open(path);
  ASSERT_TRUE(keys.ok()) << keys.error();
  auto store = UsageStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error();
  ASSERT_TRUE((*store)
                  ->add(aggregate_usage({
                      {1, "m", "a", kNov14, 3, 4, false, 0},
                      {1, "m2", "b", kNov14 - 10 * 86400, 10, 20, false, 0},  // 2023-11-04
                      {1, "m", "a", kDec1, 100, 100, false, 0},               // next month
                      {1, "m", "a", kDec1 - 32 * 86400, 100, 100, false, 0},  // last month
                      {2, "m", "a", kNov14, 50, 50, false, 0},                // another key
                  }))
                  .ok());
  auto tokens = (*store)->month_tokens(1, "2023-11");
  ASSERT_TRUE(tokens.ok()) << tokens.error();
  EXPECT_EQ(*tokens, 37);
  EXPECT_EQ(*(*store)->month_tokens(3, "2023-11"), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gs::gateway
