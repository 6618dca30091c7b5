// Usage accounting: records summed per key, model, upstream and day, and
// the rows added up in the database across flushes.
#include <gtest/gtest.h>

#include <filesystem>

#include "gateway/key_store.h"
#include "gateway/usage.h"

namespace gs::gateway {
namespace {

constexpr int64_t kDay1 = 1700000000;  // 2023-11-14T22:13:20Z
constexpr int64_t kDay2 = kDay1 + 86400;

UsageRecord record(int64_t key, std::string model, std::string upstream, int64_t time, int64_t prompt,
                   int64_t completion, bool error = false) {
  return UsageRecord{key, std::move(model), std::move(upstream), time, prompt, completion, error, 0.5};
}

TEST(GatewayUsage, DaysAreUtc) {
  EXPECT_EQ(utc_day(kDay1), "2023-11-14");
  EXPECT_EQ(utc_day(kDay2), "2023-11-15");
}

TEST(GatewayUsage, AggregatesPerDayKeyModelUpstream) {
  const auto rows = aggregate_usage({
      record(1, "m", "a", kDay1, 3, 4),
      record(1, "m", "a", kDay1 + 10, 5, 6, true),
      record(1, "m", "b", kDay1, 1, 1),
      record(2, "m", "a", kDay1, 1, 1),
      record(1, "m", "a", kDay2, 7, 0),
  });
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (UsageRow{"2023-11-14", 1, "", "m", "a", 2, 8, 10, 1, 1.0}));
  EXPECT_EQ(rows[1].upstream, "b");
  EXPECT_EQ(rows[2].key_id, 2);
  EXPECT_EQ(rows[3], (UsageRow{"2023-11-15", 1, "", "m", "a", 1, 7, 0, 0, 0.5}));
}

TEST(GatewayUsage, StoreAddsUpAndReportsWithKeyNames) {
  const auto dir = std::filesystem::temp_directory_path() / "gs_usage_test";
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "gateway.db").string();
  auto keys = SqliteKeyStore::open(path);
  ASSERT_TRUE(keys.ok()) << keys.error();
  auto key = (*keys)->create("pro", "alice");
  ASSERT_TRUE(key.ok());
  const int64_t id = key->record.id;
  {
    auto store = UsageStore::open(path);
    ASSERT_TRUE(store.ok()) << store.error();
    UsageRecorder recorder(**store, std::chrono::milliseconds(10), 2);
    recorder.record(record(id, "m", "a", kDay1, 3, 4));
    recorder.record(record(id, "m", "a", kDay1, 1, 1));
    recorder.record(record(id, "m", "a", kDay2, 2, 2));
  }  // the recorder writes what is queued when it goes
  auto store = UsageStore::open(path);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->add(aggregate_usage({record(id, "m", "a", kDay1, 10, 10, true)})).ok());
  auto all = (*store)->report("");
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], (UsageRow{"2023-11-14", id, "alice", "m", "a", 3, 14, 15, 1, 1.5}));
  auto since = (*store)->report("2023-11-15");
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0].requests, 1);
  EXPECT_NE(usage_json(*since).find(R"("key_name":"alice")"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gs::gateway
