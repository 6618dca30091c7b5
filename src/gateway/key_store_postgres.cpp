// API keys in PostgreSQL through libpq: the SQLite store's table with
// PostgreSQL's types, so that gateways on several machines share one set of
// keys and a revoke reaches all of them on their next request.
#include <libpq-fe.h>

#include <cstdlib>
#include <ctime>
#include <vector>

#include "gateway/key_store.h"

namespace gs::gateway {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS api_keys ("
    " id BIGSERIAL PRIMARY KEY,"
    " name TEXT NOT NULL, tier TEXT NOT NULL,"
    " hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,"
    " created_at BIGINT NOT NULL, revoked_at BIGINT)";

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// libpq prints notices ("relation api_keys already exists, skipping") on
// stderr by default; none of them is worth a line in the gateway's log.
void ignore_notice(void*, const char*) {}

std::string without_trailing_newlines(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

std::string cell(const PGresult* result, int row, int column) {
  return std::string(PQgetvalue(result, row, column), static_cast<size_t>(PQgetlength(result, row, column)));
}

int64_t integer_cell(const PGresult* result, int row, int column) {
  return std::strtoll(PQgetvalue(result, row, column), nullptr, 10);
}

// Columns as selected by kRecordColumns.
constexpr const char* kRecordColumns = "id, name, tier, prefix, created_at, revoked_at IS NOT NULL";

KeyRecord read_record(const PGresult* result, int row) {
  return KeyRecord{integer_cell(result, row, 0), cell(result, row, 1),         cell(result, row, 2),
                   cell(result, row, 3),         integer_cell(result, row, 4), cell(result, row, 5) == "t"};
}

}  // namespace

struct PostgresKeyStore::Connection {
  std::string uri;
  std::string where;  // the URI without its password, for messages
  PGconn* conn = nullptr;

  ~Connection() { PQfinish(conn); }

  Status connect() {
    PQfinish(conn);
    // connect_timeout first so that one in the URI overrides it: without any,
    // an unreachable server would hold a request for the system's TCP timeout.
    const char* keywords[] = {"connect_timeout", "dbname", nullptr};
    const char* values[] = {"5", uri.c_str(), nullptr};
    conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (conn == nullptr) return Error("key database {}: out of memory", where);
    if (PQstatus(conn) != CONNECTION_OK) {
      return Error("key database {}: {}", where, without_trailing_newlines(PQerrorMessage(conn)));
    }
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    return Status::Ok();
  }

  // Runs `sql` with text parameters. A connection found broken (the server
  // restarted, a proxy dropped it) is re-established once per call and the
  // command sent again; a second failure is the call's error.
  Result<PgResult> run(const char* sql, const std::vector<std::string>& parameters) {
    std::vector<const char*> values;
    for (const std::string& p : parameters) values.push_back(p.c_str());
    bool reconnected = false;
    if (PQstatus(conn) != CONNECTION_OK) {
      reconnected = true;
      GS_RETURN_IF_ERROR(connect());
    }
    for (;;) {
      PgResult result(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(),
                                   nullptr, nullptr, 0));
      const ExecStatusType status = PQresultStatus(result.get());
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
      if (PQstatus(conn) == CONNECTION_BAD && !reconnected) {
        reconnected = true;
        GS_RETURN_IF_ERROR(connect());
        continue;
      }
      const char* message = result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn);
      return Error("key database {}: {}", where, without_trailing_newlines(message));
    }
  }
};

PostgresKeyStore::PostgresKeyStore(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {}

PostgresKeyStore::~PostgresKeyStore() = default;

Result<std::unique_ptr<PostgresKeyStore>> PostgresKeyStore::open(const std::string& uri) {
  auto connection = std::make_unique<Connection>();
  connection->uri = uri;
  connection->where = redact_location(uri);
  GS_RETURN_IF_ERROR(connection->connect());
  // Two processes creating the table at once may collide in the catalog
  // (a unique violation on pg_type); the table exists for the loser's retry.
  auto created = connection->run(kSchema, {});
  if (!created.ok()) created = connection->run(kSchema, {});
  GS_RETURN_IF_ERROR(created.status());
  return std::unique_ptr<PostgresKeyStore>(new PostgresKeyStore(std::move(connection)));
}

Result<CreatedKey> PostgresKeyStore::create(const std::string& tier, const std::string& name) {
  GS_ASSIGN_OR_RETURN(CreatedKey created, new_key(tier, name));
  std::lock_guard lock(mutex_);
  GS_ASSIGN_OR_RETURN(PgResult result,
                      connection_->run("INSERT INTO api_keys(name, tier, hash, prefix, created_at)"
                                       " VALUES($1, $2, $3, $4, $5) RETURNING id",
                                       {name, tier, sha256_hex(created.secret), created.record.prefix,
                                        std::to_string(created.record.created_at)}));
  created.record.id = integer_cell(result.get(), 0, 0);
  return created;
}

Result<std::vector<KeyRecord>> PostgresKeyStore::list() {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kRecordColumns + " FROM api_keys ORDER BY id";
  GS_ASSIGN_OR_RETURN(PgResult result, connection_->run(sql.c_str(), {}));
  std::vector<KeyRecord> out;
  for (int row = 0; row < PQntuples(result.get()); ++row) out.push_back(read_record(result.get(), row));
  return out;
}

Status PostgresKeyStore::revoke(int64_t id) {
  std::lock_guard lock(mutex_);
  GS_ASSIGN_OR_RETURN(
      PgResult result,
      connection_->run("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                       {std::to_string(std::time(nullptr)), std::to_string(id)}));
  if (std::string_view(PQcmdTuples(result.get())) == "0") return Error("no live key with id {}", id);
  return Status::Ok();
}

Result<std::optional<KeyRecord>> PostgresKeyStore::find(std::string_view secret) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT ") + kRecordColumns + " FROM api_keys WHERE hash = $1 AND revoked_at IS NULL";
  GS_ASSIGN_OR_RETURN(PgResult result, connection_->run(sql.c_str(), {sha256_hex(secret)}));
  if (PQntuples(result.get()) == 0) return std::optional<KeyRecord>();
  return std::optional<KeyRecord>(read_record(result.get(), 0));
}

}  // namespace gs::gateway
