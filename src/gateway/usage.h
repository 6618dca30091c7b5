// Usage accounting: per key, model, upstream and UTC day, the requests,
// prompt and completion tokens, errors and total latency, in a table of the
// gateway's key database. The request path only queues a record; one thread
// sums the queue and writes it every second (or sooner when it grows), so a
// slow disk never delays an answer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace gs::gateway {

// One answered request.
struct UsageRecord {
  int64_t key_id = 0;
  std::string model;           // the canonical model name
  std::string upstream = "-";  // who answered: an upstream's name, "cache", or "-" when none did
  int64_t unix_time = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  bool error = false;  // the client got a status of 400 or more
  double latency_s = 0;
};

struct UsageRow {
  std::string day;  // YYYY-MM-DD, UTC
  int64_t key_id = 0;
  std::string key_name;  // filled by reports
  std::string model;
  std::string upstream;
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t errors = 0;
  double latency_s = 0;  // total over the requests

  bool operator==(const UsageRow&) const = default;
};

// The UTC calendar fields of a Unix time (days, months and quota resets are UTC).
std::tm utc_calendar(int64_t unix_time);
// "YYYY-MM-DD" of a Unix time, in UTC.
std::string utc_day(int64_t unix_time);
// Sums records into one row per (day, key, model, upstream), in that order.
std::vector<UsageRow> aggregate_usage(const std::vector<UsageRecord>& records);
// The rows as a JSON array of objects with the UsageRow's field names.
std::string usage_json(const std::vector<UsageRow>& rows);

class UsageStore {
 public:
  static Result<std::unique_ptr<UsageStore>> open(const std::string& path);
  ~UsageStore();
  UsageStore(const UsageStore&) = delete;
  UsageStore& operator=(const UsageStore&) = delete;

  // Adds the rows to what is stored (one transaction).
  Status add(const std::vector<UsageRow>& rows);
  // Rows from `since_day` (YYYY-MM-DD; "" for all) on, with key names.
  Result<std::vector<UsageRow>> report(const std::string& since_day);
  // Prompt + completion tokens of `key_id` in `month` (YYYY-MM, UTC days): a monthly quota's seed.
  Result<int64_t> month_tokens(int64_t key_id, const std::string& month);

 private:
  explicit UsageStore(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::mutex mutex_;
};

// Queues records and writes them from a thread of its own.
class UsageRecorder {
 public:
  explicit UsageRecorder(UsageStore& store, std::chrono::milliseconds interval = std::chrono::seconds(1),
                         size_t batch = 1000);
  ~UsageRecorder();  // writes what is queued
  UsageRecorder(const UsageRecorder&) = delete;
  UsageRecorder& operator=(const UsageRecorder&) = delete;

  // Never blocks on the database. Past kMaxQueued records (the database is
  // stuck), new ones are counted as dropped rather than held without bound.
  void record(UsageRecord record);
  int64_t dropped() const;
  UsageStore& store() { return store_; }

  static constexpr size_t kMaxQueued = 100000;

 private:
  void run();
  UsageStore& store_;
  const std::chrono::milliseconds interval_;
  const size_t batch_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<UsageRecord> queue_;
  int64_t dropped_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gs::gateway
