#include "gateway/key_store.h"

#include "gateway/shared_counter.h"
#include "gateway/sqlite_statement.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <memory>

namespace gs::gateway {
namespace {

std::string to_hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS api_keys ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL, tier TEXT NOT NULL,"
    " hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, revoked_at INTEGER)";

KeyRecord read_record(const Statement& s) {
  return KeyRecord{s.integer(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.integer(5) != 0};
}

}  // namespace

std::string sha256_hex(std::string_view text) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up on every digest. One
  // context per thread, reused: a fresh one per digest costs more than hashing a key.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(),
                                                                                EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const EVP_MD* md = sha256 ? sha256 : EVP_sha256();
  if (!context || EVP_DigestInit_ex2(context.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
    EVP_Digest(text.data(), text.size(), digest, &length, md, nullptr);
  }
  return to_hex(digest, length);
}

Result<std::string> generate_key() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Error("no random bytes from OpenSSL for a new key");
  return "gsk_" + to_hex(bytes, sizeof bytes);
}

Result<CreatedKey> new_key(const std::string& tier, const std::string& name) {
  GS_ASSIGN_OR_RETURN(std::string secret, generate_key());
  return CreatedKey{
      KeyRecord{0, name, tier, secret.substr(0, 12), static_cast<int64_t>(std::time(nullptr)), false},
      secret};
}

bool is_postgres_location(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string redact_location(std::string_view location) {
  std::string out(location);
  if (!is_postgres_location(location)) return out;
  // user:PASSWORD@host: the userinfo ends at the last '@' before the path.
  const size_t scheme_end = out.find("://") + 3;
  const size_t authority_end = std::min(out.find_first_of("/?", scheme_end), out.size());
  const size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= scheme_end) {
    const size_t colon = out.find(':', scheme_end);
    if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // password=PASSWORD among the query parameters.
  for (size_t pos = out.find('?'); pos != std::string::npos; pos = out.find('&', pos + 1)) {
    if (out.compare(pos + 1, 9, "password=") != 0) continue;
    const size_t value = pos + 10;
    const size_t end = std::min(out.find('&', value), out.size());
    out.replace(value, end - value, "***");
  }
  return out;
}

Result<std::unique_ptr<KeyStore>> open_key_store(const std::string& location) {
  if (is_postgres_location(location)) {
    GS_ASSIGN_OR_RETURN(auto store, PostgresKeyStore::open(location));
    return std::unique_ptr<KeyStore>(std::move(store));
  }
  GS_ASSIGN_OR_RETURN(auto store, SqliteKeyStore::open(location));
  return std::unique_ptr<KeyStore>(std::move(store));
}

Result<sqlite3*> open_database(const std::string& path) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return Error("cannot create {}: {}", dir.string(), ec.message());
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = Error("cannot open database {}: {}", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return status;
  }
  // Another process (the CLI) or connection may write at the same time.
  sqlite3_busy_timeout(db, 5000);
  if (Status status = exec_sql(db, "PRAGMA journal_mode=WAL"); !status.ok()) {
    sqlite3_close(db);
    return status.with_context(path);
  }
  return db;
}

Status exec_sql(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return Status::Ok();
  Status status = Error("gateway database: {}", message ? message : sqlite3_errmsg(db));
  sqlite3_free(message);
  return status;
}

Result<std::unique_ptr<SqliteKeyStore>> SqliteKeyStore::open(const std::string& path) {
  GS_ASSIGN_OR_RETURN(sqlite3 * db, open_database(path));
  std::unique_ptr<SqliteKeyStore> store(new SqliteKeyStore(db));
  GS_RETURN_IF_ERROR(exec_sql(db, kSchema).with_context(path));
  store->changes_ = SharedCounter::open(path + "-keys-version");
  return store;
}

SqliteKeyStore::SqliteKeyStore(sqlite3* db) : db_(db) {}

SqliteKeyStore::~SqliteKeyStore() {
  version_query_.reset();  // finalized before the connection closes
  sqlite3_close(db_);
}

Result<CreatedKey> SqliteKeyStore::create(const std::string& tier, const std::string& name) {
  GS_ASSIGN_OR_RETURN(CreatedKey created, new_key(tier, name));
  std::lock_guard lock(mutex_);
  cache_.clear();  // this connection's own writes leave data_version as it was
  Statement s(db_, "INSERT INTO api_keys(name, tier, hash, prefix, created_at) VALUES(?, ?, ?, ?, ?)");
  GS_RETURN_IF_ERROR(s.prepared());
  s.bind(1, name);
  s.bind(2, tier);
  s.bind(3, sha256_hex(created.secret));
  s.bind(4, created.record.prefix);
  s.bind(5, created.record.created_at);
  GS_RETURN_IF_ERROR(s.step().status());
  created.record.id = sqlite3_last_insert_rowid(db_);
  if (changes_) changes_->bump();  // committed: other processes' caches go now
  return created;
}

Result<std::vector<KeyRecord>> SqliteKeyStore::list() {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT id, name, tier, prefix, created_at, revoked_at IS NOT NULL FROM api_keys ORDER BY id");
  GS_RETURN_IF_ERROR(s.prepared());
  std::vector<KeyRecord> out;
  for (;;) {
    GS_ASSIGN_OR_RETURN(int rc, s.step());
    if (rc == SQLITE_DONE) break;
    out.push_back(read_record(s));
  }
  return out;
}

Status SqliteKeyStore::revoke(int64_t id) {
  std::lock_guard lock(mutex_);
  cache_.clear();  // this connection's own writes leave data_version as it was
  Statement s(db_, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
  GS_RETURN_IF_ERROR(s.prepared());
  s.bind(1, static_cast<int64_t>(std::time(nullptr)));
  s.bind(2, id);
  GS_RETURN_IF_ERROR(s.step().status());
  if (sqlite3_changes(db_) == 0) return Error("no live key with id {}", id);
  if (changes_) changes_->bump();  // committed: other processes' caches go now
  return Status::Ok();
}

Status SqliteKeyStore::refresh_cache() {
  // The counter is bumped after the commit, so when it moved the change is visible to
  // data_version now. Writers that do not bump it are caught by the check once a second.
  const auto now = std::chrono::steady_clock::now();
  const uint64_t changes = changes_ ? changes_->value() : 0;
  if (changes_ && data_version_ != -1 && changes == changes_seen_ && now < next_version_check_) {
    return Status::Ok();
  }
  if (!version_query_) version_query_ = std::make_unique<Statement>(db_, "PRAGMA data_version");
  GS_RETURN_IF_ERROR(version_query_->prepared());
  version_query_->reset();
  GS_ASSIGN_OR_RETURN(int rc, version_query_->step());
  const int64_t version = rc == SQLITE_ROW ? version_query_->integer(0) : -1;
  version_query_->reset();  // ends its read transaction
  if (version != data_version_) cache_.clear();
  data_version_ = version;
  changes_seen_ = changes;
  next_version_check_ = now + std::chrono::seconds(1);
  return Status::Ok();
}

Result<std::optional<KeyRecord>> SqliteKeyStore::find(std::string_view secret) {
  std::lock_guard lock(mutex_);
  GS_RETURN_IF_ERROR(refresh_cache());
  std::string hash = sha256_hex(secret);
  if (auto hit = cache_.find(hash); hit != cache_.end()) return hit->second;
  Statement s(db_,
              "SELECT id, name, tier, prefix, created_at, revoked_at IS NOT NULL FROM api_keys"
              " WHERE hash = ? AND revoked_at IS NULL");
  GS_RETURN_IF_ERROR(s.prepared());
  s.bind(1, hash);
  GS_ASSIGN_OR_RETURN(int rc, s.step());
  std::optional<KeyRecord> found;
  if (rc == SQLITE_ROW) found = read_record(s);
  if (cache_.size() >= kMaxCached) cache_.clear();  // unknown keys are cached too: bounded
  cache_.emplace(std::move(hash), found);
  return found;
}

}  // namespace gs::gateway
