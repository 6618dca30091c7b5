// API keys of the gateway: a key is random ("gsk_" + 64 hex digits), shown
// once when created and stored only as its SHA-256, with a name, a tier and
// whether it was revoked. Stored in SQLite (a file) or PostgreSQL (shared by
// gateways on several machines); both are safe to use from many threads and
// from several processes (`genstack keys revoke` while the gateway runs).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace gs::gateway {

class Statement;
class SharedCounter;

struct KeyRecord {
  int64_t id = 0;
  std::string name;
  std::string tier;
  std::string prefix;      // the first characters of the key, to recognise it in lists
  int64_t created_at = 0;  // Unix seconds
  bool revoked = false;
};

struct CreatedKey {
  KeyRecord record;
  std::string secret;  // the key itself: shown once, never stored
};

// Hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);
// "gsk_" + 64 hex digits from the OS's random generator.
Result<std::string> generate_key();
// A fresh key of `tier` created now (id 0 until stored).
Result<CreatedKey> new_key(const std::string& tier, const std::string& name);

// True for a PostgreSQL connection URI (postgresql://... or postgres://...);
// any other key-store location is a SQLite file path.
bool is_postgres_location(std::string_view location);
// The location with the password of a connection URI (user:PASSWORD@ or
// password=PASSWORD) replaced by "***", for messages and logs.
std::string redact_location(std::string_view location);

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  virtual Result<CreatedKey> create(const std::string& tier, const std::string& name) = 0;
  virtual Result<std::vector<KeyRecord>> list() = 0;
  // Fails when no key has this id.
  virtual Status revoke(int64_t id) = 0;
  // The live key whose secret this is; nullopt when unknown or revoked.
  virtual Result<std::optional<KeyRecord>> find(std::string_view secret) = 0;
};

// PostgreSQL for a postgresql:// or postgres:// URI, else SQLite at that path.
Result<std::unique_ptr<KeyStore>> open_key_store(const std::string& location);

class SqliteKeyStore : public KeyStore {
 public:
  // Creates the file (and its directory) and the tables when missing.
  static Result<std::unique_ptr<SqliteKeyStore>> open(const std::string& path);
  ~SqliteKeyStore() override;
  SqliteKeyStore(const SqliteKeyStore&) = delete;
  SqliteKeyStore& operator=(const SqliteKeyStore&) = delete;

  Result<CreatedKey> create(const std::string& tier, const std::string& name) override;
  Result<std::vector<KeyRecord>> list() override;
  Status revoke(int64_t id) override;
  // Answers from memory while the key database is unchanged: create() and
  // revoke() of any process bump a counter beside the file (FILE-keys-version,
  // mapped shared), so a revoke by `genstack keys` counts at the next call;
  // SQLite's data_version is asked when the counter moved and once a second,
  // for other writers of the file (the sqlite3 shell).
  Result<std::optional<KeyRecord>> find(std::string_view secret) override;

 private:
  explicit SqliteKeyStore(sqlite3* db);
  Status refresh_cache();  // mutex_ held
  sqlite3* db_;
  std::mutex mutex_;
  // Lookups by SHA-256 (unknown keys too), valid while data_version_ holds.
  std::unordered_map<std::string, std::optional<KeyRecord>> cache_;
  int64_t data_version_ = -1;
  std::unique_ptr<Statement> version_query_;  // kept prepared
  std::unique_ptr<SharedCounter> changes_;    // null: ask data_version on every call
  uint64_t changes_seen_ = 0;
  std::chrono::steady_clock::time_point next_version_check_{};
  static constexpr size_t kMaxCached = 10000;
};

// Keys in PostgreSQL through libpq: one connection, commands serialized. A
// connection that broke is re-established once per call; when that fails too
// the call fails (the gateway answers 500) and the next call tries again.
class PostgresKeyStore : public KeyStore {
 public:
  // Connects and creates the table when missing.
  static Result<std::unique_ptr<PostgresKeyStore>> open(const std::string& uri);
  ~PostgresKeyStore() override;
  PostgresKeyStore(const PostgresKeyStore&) = delete;
  PostgresKeyStore& operator=(const PostgresKeyStore&) = delete;

  Result<CreatedKey> create(const std::string& tier, const std::string& name) override;
  Result<std::vector<KeyRecord>> list() override;
  Status revoke(int64_t id) override;
  Result<std::optional<KeyRecord>> find(std::string_view secret) override;

  struct Connection;

 private:
  explicit PostgresKeyStore(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> connection_;
  std::mutex mutex_;
};

}  // namespace gs::gateway
