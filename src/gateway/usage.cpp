#include "gateway/usage.h"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <map>
#include <tuple>

#include "gateway/sqlite_statement.h"

namespace gs::gateway {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS usage ("
    " day TEXT NOT NULL, key_id INTEGER NOT NULL, model TEXT NOT NULL, upstream TEXT NOT NULL,"
    " requests INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,"
    " errors INTEGER NOT NULL, latency_s REAL NOT NULL,"
    " PRIMARY KEY (day, key_id, model, upstream))";

}  // namespace

std::tm utc_calendar(int64_t unix_time) {
  const std::time_t t = unix_time;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

std::string utc_day(int64_t unix_time) {
  const std::tm tm = utc_calendar(unix_time);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  return day;
}

std::vector<UsageRow> aggregate_usage(const std::vector<UsageRecord>& records) {
  std::map<std::tuple<std::string, int64_t, std::string, std::string>, UsageRow> rows;
  for (const UsageRecord& r : records) {
    const std::string day = utc_day(r.unix_time);
    UsageRow& row = rows[{day, r.key_id, r.model, r.upstream}];
    row.day = day;
    row.key_id = r.key_id;
    row.model = r.model;
    row.upstream = r.upstream;
    row.requests += 1;
    row.prompt_tokens += r.prompt_tokens;
    row.completion_tokens += r.completion_tokens;
    row.errors += r.error ? 1 : 0;
    row.latency_s += r.latency_s;
  }
  std::vector<UsageRow> out;
  for (auto& [key, row] : rows) out.push_back(std::move(row));
  return out;
}

std::string usage_json(const std::vector<UsageRow>& rows) {
  boost::json::array out;
  for (const UsageRow& r : rows) {
    out.push_back(boost::json::object{{"day", r.day},
                                      {"key_id", r.key_id},
                                      {"key_name", r.key_name},
                                      {"model", r.model},
                                      {"upstream", r.upstream},
                                      {"requests", r.requests},
                                      {"prompt_tokens", r.prompt_tokens},
                                      {"completion_tokens", r.completion_tokens},
                                      {"errors", r.errors},
                                      {"latency_s", r.latency_s}});
  }
  return boost::json::serialize(out);
}

Result<std::unique_ptr<UsageStore>> UsageStore::open(const std::string& path) {
  GS_ASSIGN_OR_RETURN(sqlite3 * db, open_database(path));
  std::unique_ptr<UsageStore> store(new UsageStore(db));
  GS_RETURN_IF_ERROR(exec_sql(db, kSchema).with_context(path));
  return store;
}

UsageStore::~UsageStore() { sqlite3_close(db_); }

Status UsageStore::add(const std::vector<UsageRow>& rows) {
  std::lock_guard lock(mutex_);
  GS_RETURN_IF_ERROR(exec_sql(db_, "BEGIN IMMEDIATE"));
  Statement s(
      db_,
      "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, key_id, model, upstream)"
      " DO UPDATE SET requests = requests + excluded.requests,"
      " prompt_tokens = prompt_tokens + excluded.prompt_tokens,"
      " completion_tokens = completion_tokens + excluded.completion_tokens,"
      " errors = errors + excluded.errors, latency_s = latency_s + excluded.latency_s");
  Status status = s.prepared();
  for (size_t i = 0; status.ok() && i < rows.size(); ++i) {
    const UsageRow& r = rows[i];
    s.reset();
    s.bind(1, r.day);
    s.bind(2, r.key_id);
    s.bind(3, r.model);
    s.bind(4, r.upstream);
    s.bind(5, r.requests);
    s.bind(6, r.prompt_tokens);
    s.bind(7, r.completion_tokens);
    s.bind(8, r.errors);
    s.bind(9, r.latency_s);
    status = s.step().status();
  }
  const Status ended = exec_sql(db_, status.ok() ? "COMMIT" : "ROLLBACK");
  return status.ok() ? ended : status;
}

Result<std::vector<UsageRow>> UsageStore::report(const std::string& since_day) {
  std::lock_guard lock(mutex_);
  Statement s(
      db_,
      "SELECT u.day, u.key_id, COALESCE(k.name, ''), u.model, u.upstream, u.requests, u.prompt_tokens,"
      " u.completion_tokens, u.errors, u.latency_s FROM usage u LEFT JOIN api_keys k ON k.id = u.key_id"
      " WHERE u.day >= ? ORDER BY u.day, u.key_id, u.model, u.upstream");
  GS_RETURN_IF_ERROR(s.prepared());
  s.bind(1, since_day);
  std::vector<UsageRow> out;
  for (;;) {
    GS_ASSIGN_OR_RETURN(int rc, s.step());
    if (rc == SQLITE_DONE) break;
    out.push_back(UsageRow{s.text(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.integer(5),
                           s.integer(6), s.integer(7), s.integer(8), s.real(9)});
  }
  return out;
}

Result<int64_t> UsageStore::month_tokens(int64_t key_id, const std::string& month) {
  std::lock_guard lock(mutex_);
  // A range of days (not substr) so that the primary key (day, key_id, ...) serves it.
  Statement s(db_,
              "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM usage"
              " WHERE day >= ? AND day <= ? AND key_id = ?");
  GS_RETURN_IF_ERROR(s.prepared());
  s.bind(1, month + "-01");
  s.bind(2, month + "-31");
  s.bind(3, key_id);
  GS_ASSIGN_OR_RETURN(int rc, s.step());
  if (rc != SQLITE_ROW) return Error("usage: no sum of tokens");
  return s.integer(0);
}

UsageRecorder::UsageRecorder(UsageStore& store, std::chrono::milliseconds interval, size_t batch)
    : store_(store), interval_(interval), batch_(batch), thread_([this] { run(); }) {}

UsageRecorder::~UsageRecorder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void UsageRecorder::record(UsageRecord record) {
  std::lock_guard lock(mutex_);
  if (queue_.size() >= kMaxQueued) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(record));
  if (queue_.size() >= batch_) wake_.notify_one();
}

int64_t UsageRecorder::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void UsageRecorder::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, interval_, [&] { return stopping_ || queue_.size() >= batch_; });
    std::vector<UsageRecord> records;
    records.swap(queue_);
    const bool last = stopping_;
    lock.unlock();
    if (!records.empty()) {
      const Status status = store_.add(aggregate_usage(records));
      if (!status.ok()) {
        std::fprintf(stderr, "genstack: gateway: usage of %zu requests not recorded: %s\n", records.size(),
                     status.message().c_str());
      }
    }
    if (last) return;
    lock.lock();
  }
}

}  // namespace gs::gateway
