// API keys in SQLite and in PostgreSQL (a real server, skipped when not
// installed): stored hashed, found by their secret, revoked for good.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "gateway/key_store.h"
#include "gateway/shared_counter.h"
#include "gateway/stream_relay.h"
#include "gateway_daemons.h"

namespace gs::gateway {
namespace {

std::string temp_db() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gs-keys-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return (dir / "sub" / "gateway.db").string();
}

TEST(GatewayKeys, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(GatewayKeys, KeysAreRandomAndWellFormed) {
  auto a = generate_key(), b = generate_key();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 4u + 64u);
  EXPECT_TRUE(a->starts_with("gsk_"));
  EXPECT_NE(*a, *b);
}

TEST(GatewayKeys, CreateFindListRevoke) {
  const std::string path = temp_db();
  auto store = SqliteKeyStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error();
  auto created = (*store)->create("free", "alice");
  ASSERT_TRUE(created.ok()) << created.error();
  auto found = (*store)->find(created->secret);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->tier, "free");
  EXPECT_EQ((*found)->name, "alice");
  auto wrong = (*store)->find(created->secret + "x");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->has_value());

  // Only the hash is on disk.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT hash FROM api_keys", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), sha256_hex(created->secret));
  sqlite3_finalize(stmt);
  sqlite3_close(db);

  // A second handle (another process, e.g. `genstack keys revoke`) sees the same keys.
  auto other = SqliteKeyStore::open(path);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->revoke(created->record.id).ok());
  EXPECT_FALSE((*other)->revoke(created->record.id).ok());
  EXPECT_FALSE((*other)->revoke(999).ok());
  found = (*store)->find(created->secret);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  auto list = (*store)->list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].revoked);
  EXPECT_EQ((*list)[0].prefix, created->secret.substr(0, 12));
}

TEST(GatewayKeys, ARevokeAfterAQuietSpellCountsAtTheNextLookup) {
  // The store answers from memory until the key counter moves; a revoke by another handle
  // long after the last change must still count at once.
  const std::string path = temp_db();
  auto store = SqliteKeyStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error();
  auto created = (*store)->create("free", "bob");
  ASSERT_TRUE(created.ok());
  for (int i = 0; i < 3; ++i) {
    auto found = (*store)->find(created->secret);
    ASSERT_TRUE(found.ok() && found->has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
  }
  auto other = SqliteKeyStore::open(path);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->revoke(created->record.id).ok());
  auto found = (*store)->find(created->secret);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

TEST(GatewayKeys, AWriteByAnotherToolCountsWithinASecond) {
  // The sqlite3 shell does not bump the counter: data_version, asked once a second, sees it.
  const std::string path = temp_db();
  auto store = SqliteKeyStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error();
  auto created = (*store)->create("free", "carol");
  ASSERT_TRUE(created.ok());
  auto found = (*store)->find(created->secret);
  ASSERT_TRUE(found.ok() && found->has_value());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE api_keys SET revoked_at = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  found = (*store)->find(created->secret);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

TEST(GatewaySharedCounter, BumpsAreSeenThroughEveryMappingOfTheFile) {
  const std::string path = temp_db() + "-keys-version";
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  auto first = SharedCounter::open(path);
  auto second = SharedCounter::open(path);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->value(), 0u);
  first->bump();
  second->bump();
  EXPECT_EQ(first->value(), 2u);
  EXPECT_EQ(second->value(), 2u);
  EXPECT_EQ(std::filesystem::file_size(path), 8u);
  EXPECT_EQ(SharedCounter::open("/nonexistent-folder/x-keys-version"), nullptr);
}

TEST(GatewayKeys, LocationsStartingWithAPostgresSchemeAreUris) {
  EXPECT_TRUE(is_postgres_location("postgresql://u@h/db"));
  EXPECT_TRUE(is_postgres_location("postgres://u@h/db"));
  EXPECT_FALSE(is_postgres_location("/var/lib/genstack/gateway.db"));
  EXPECT_FALSE(is_postgres_location("postgresql.db"));
}

TEST(GatewayKeys, RedactsThePasswordOfAConnectionUri) {
  EXPECT_EQ(redact_location("postgresql://alice:s3cr@t@db:5432/keys?sslmode=require"),
            "postgresql://alice:***@db:5432/keys?sslmode=require");
  EXPECT_EQ(redact_location("postgres://db/keys?user=a&password=s3cret&sslmode=off"),
            "postgres://db/keys?user=a&password=***&sslmode=off");
  EXPECT_EQ(redact_location("postgresql://alice@db/keys"), "postgresql://alice@db/keys");
  EXPECT_EQ(redact_location("/tmp/a:b@c.db"), "/tmp/a:b@c.db");  // a path, not a URI
}

TEST(GatewayKeys, AnUnreachablePostgresIsAnErrorWithoutThePassword) {
  const std::string uri =
      "postgresql://genstack:s3cret@127.0.0.1:" + std::to_string(test::free_port()) + "/postgres";
  auto store = open_key_store(uri);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().find("s3cret"), std::string::npos) << store.error();
  EXPECT_NE(store.error().find("genstack:***@127.0.0.1"), std::string::npos) << store.error();
}

// One PostgreSQL 15 server for the suite (initdb takes seconds).
class GatewayKeysPostgres : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new test::PostgresServer;
    not_started_ = server_->start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (!not_started_.empty()) GTEST_SKIP() << "no PostgreSQL: " << not_started_;
  }
  static std::unique_ptr<KeyStore> open() {
    auto store = open_key_store(server_->uri());
    EXPECT_TRUE(store.ok()) << store.error();
    return store.ok() ? std::move(*store) : nullptr;
  }

  static test::PostgresServer* server_;
  static std::string not_started_;
};
test::PostgresServer* GatewayKeysPostgres::server_ = nullptr;
std::string GatewayKeysPostgres::not_started_;

TEST_F(GatewayKeysPostgres, CreateFindListRevokeAcrossTwoConnections) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_NE(dynamic_cast<PostgresKeyStore*>(store.get()), nullptr);
  auto created = store->create("free", "alice");
  ASSERT_TRUE(created.ok()) << created.error();
  EXPECT_GT(created->record.id, 0);
  auto found = store->find(created->secret);
  ASSERT_TRUE(found.ok() && found->has_value()) << found.error();
  EXPECT_EQ((*found)->tier, "free");
  EXPECT_EQ((*found)->name, "alice");
  EXPECT_EQ((*found)->id, created->record.id);
  EXPECT_EQ((*found)->created_at, created->record.created_at);
  auto wrong = store->find(created->secret + "x");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->has_value());

  // Only the hash is in the table.
  PGconn* conn = PQconnectdb(server_->uri().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const std::string id = std::to_string(created->record.id);
  const char* params[] = {id.c_str()};
  PGresult* row = PQexecParams(conn, "SELECT hash, prefix FROM api_keys WHERE id = $1", 1, nullptr, params,
                               nullptr, nullptr, 0);
  ASSERT_EQ(PQntuples(row), 1);
  EXPECT_EQ(std::string(PQgetvalue(row, 0, 0)), sha256_hex(created->secret));
  EXPECT_EQ(std::string(PQgetvalue(row, 0, 1)), created->secret.substr(0, 12));
  PQclear(row);
  PQfinish(conn);

  // A second store (another process: `genstack keys revoke`) opens the existing table and revokes.
  auto other = open();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->revoke(created->record.id).ok());
  EXPECT_FALSE(other->revoke(created->record.id).ok());
  EXPECT_FALSE(other->revoke(999999).ok());
  found = store->find(created->secret);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  auto list = store->list();
  ASSERT_TRUE(list.ok()) << list.error();
  bool listed = false;
  for (const KeyRecord& k : *list) {
    if (k.id != created->record.id) continue;
    listed = true;
    EXPECT_TRUE(k.revoked);
    EXPECT_EQ(k.name, "alice");
  }
  EXPECT_TRUE(listed);
}

TEST_F(GatewayKeysPostgres, ReconnectsOnceAfterTheServerRestartedAndFailsCleanlyWhileItIsDown) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto created = store->create("pro", "bob");
  ASSERT_TRUE(created.ok()) << created.error();

  // The server restarts between two requests: the next call reconnects once, unnoticed.
  ASSERT_TRUE(server_->stop());
  ASSERT_TRUE(server_->restart_stopped());
  auto found = store->find(created->secret);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_TRUE(found->has_value());

  // While it is down every call is an error naming the database, not a crash or a hang.
  ASSERT_TRUE(server_->stop());
  auto down = store->find(created->secret);
  EXPECT_FALSE(down.ok());
  EXPECT_NE(down.error().find("key database postgresql://genstack@127.0.0.1"), std::string::npos)
      << down.error();
  EXPECT_FALSE(store->list().ok());

  // Back up: the next call connects again.
  ASSERT_TRUE(server_->restart_stopped());
  found = store->find(created->secret);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_TRUE(found->has_value());
}

TEST(GatewayStream, SplitsEventsAcrossPiecesAndReadsUsage) {
  EventSplitter sse(StreamFormat::kSse);
  EXPECT_TRUE(sse.feed("data: {\"a\":1}\n").empty());
  auto events =
      sse.feed("\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\nda");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse.partial(), "da");
  Usage usage;
  EXPECT_FALSE(scan_usage(events[0], usage));
  EXPECT_TRUE(scan_usage(events[1], usage));  // usage-only chunk
  EXPECT_EQ(usage.prompt_tokens, 3);
  EXPECT_EQ(usage.completion_tokens, 4);

  EventSplitter nd(StreamFormat::kNdjson);
  auto lines = nd.feed("{\"done\":false}\n{\"done\":true,\"prompt_eval_count\":5,\"eval_count\":6}\n");
  ASSERT_EQ(lines.size(), 2u);
  Usage ollama;
  scan_usage(lines[1], ollama);
  EXPECT_EQ(ollama.prompt_tokens + ollama.completion_tokens, 11);
  EXPECT_EQ(stream_error_event(StreamFormat::kSse, "x").substr(0, 16), "data: {\"error\":{");
  EXPECT_TRUE(stream_error_event(StreamFormat::kSse, "x").ends_with("data: [DONE]\n\n"));
  EXPECT_TRUE(stream_error_event(StreamFormat::kNdjson, "x").ends_with("}\n"));
}

TEST(GatewayStream, ReadsTheUsageOfAWholeAnswer) {
  auto read = [](std::string_view body) {
    Usage usage;
    scan_answer_usage(body, usage);
    return std::make_pair(usage.seen, usage.prompt_tokens * 1000 + usage.completion_tokens);
  };
  EXPECT_EQ(
      read(R"({"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":5}})"),
      std::make_pair(true, int64_t{3005}));
  EXPECT_EQ(read("{\"usage\" : {\"prompt_tokens\":1,\"completion_tokens\":2} }\n"),
            std::make_pair(true, int64_t{1002}));
  // A "usage" that is not the answer's own: inside a string, or in a nested object.
  EXPECT_EQ(read(R"({"choices":[{"message":{"content":"\"usage\":{\"prompt_tokens\":9}}"}}]})"),
            std::make_pair(false, int64_t{0}));
  EXPECT_EQ(read(R"({"usage":{"prompt_tokens":1,"completion_tokens":1},"x":{"usage":{"prompt_tokens":7}}})"),
            std::make_pair(true, int64_t{1001}));
  // Ollama's counts, and usage that is not last, go through the whole parse.
  EXPECT_EQ(read(R"({"message":{"content":"hi"},"prompt_eval_count":4,"eval_count":6,"done":true})"),
            std::make_pair(true, int64_t{4006}));
  EXPECT_EQ(read(R"({"usage":{"prompt_tokens":2,"completion_tokens":3},"id":"x"})"),
            std::make_pair(true, int64_t{2003}));
  EXPECT_EQ(read("not json"), std::make_pair(false, int64_t{0}));
}

TEST(GatewayStream, NamesMalformedEvents) {
  EXPECT_EQ(malformed_event_reason(StreamFormat::kSse, "data: {\"a\":1}\n\n"), "");
  EXPECT_EQ(malformed_event_reason(StreamFormat::kSse, "data: [DONE]\n\n"), "");
  EXPECT_EQ(malformed_event_reason(StreamFormat::kSse, ": keep-alive\n\n"), "");
  EXPECT_EQ(malformed_event_reason(StreamFormat::kSse, "event: x\nid: 3\ndata: {\"a\":\ndata: 1}\r\n\n"), "");
  EXPECT_NE(malformed_event_reason(StreamFormat::kSse, "garbage\n\n").find("not an SSE field"),
            std::string::npos);
  EXPECT_NE(malformed_event_reason(StreamFormat::kSse, "data: {oops\n\n").find("not JSON"),
            std::string::npos);
  EXPECT_EQ(malformed_event_reason(StreamFormat::kNdjson, "{\"done\":true}\n"), "");
  EXPECT_NE(malformed_event_reason(StreamFormat::kNdjson, "nope\n"), "");
  EXPECT_NE(stream_error_event(StreamFormat::kSse, "x", "upstream_malformed").find("upstream_malformed"),
            std::string::npos);
}

}  // namespace
}  // namespace gs::gateway
