// API keys of the gateway in SQLite: a key is random ("gsk_" + 64 hex
// digits), shown once when created and stored only as its SHA-256, with a
// name, a tier and whether it was revoked. Safe to use from many threads and
// from several processes (`genstack keys revoke` while the gateway runs).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace gs::gateway {

class Statement;

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

class KeyStore {
 public:
  // Creates the file (and its directory) and the tables when missing.
  static Result<std::unique_ptr<KeyStore>> open(const std::string& path);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  Result<CreatedKey> create(const std::string& tier, const std::string& name);
  Result<std::vector<KeyRecord>> list();
  // Fails when no key has this id.
  Status revoke(int64_t id);
  // The live key whose secret this is; nullopt when unknown or revoked.
  // Answers from memory while the database is unchanged (SQLite's
  // data_version), so a revoke by any process counts at the next call.
  Result<std::optional<KeyRecord>> find(std::string_view secret);

 private:
  explicit KeyStore(sqlite3* db);
  Status refresh_cache();  // mutex_ held
  sqlite3* db_;
  std::mutex mutex_;
  // Lookups by SHA-256 (unknown keys too), valid while data_version_ holds.
  std::unordered_map<std::string, std::optional<KeyRecord>> cache_;
  int64_t data_version_ = -1;
  std::unique_ptr<Statement> version_query_;  // kept prepared: it runs on every request
  static constexpr size_t kMaxCached = 10000;
};

}  // namespace gs::gateway
