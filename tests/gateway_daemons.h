// Real Redis and PostgreSQL servers for the gateway's tests, each started on
// a free 127.0.0.1 port in a temp folder and stopped by the destructor. A
// test skips (GTEST_SKIP with the reason) when the daemon is not installed.
#pragma once

#include <cstdint>
#include <string>

namespace gs::test {

// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
uint16_t free_port();

// Debian's redis-server, without persistence.
class RedisServer {
 public:
  // "" when it started; else why not (not installed, did not answer).
  std::string start();
  ~RedisServer();
  void stop();
  uint16_t port() const { return port_; }

 private:
  int pid_ = 0;
  uint16_t port_ = 0;
};

// Debian's PostgreSQL 15: initdb (trust authentication, superuser
// "genstack", database "postgres") and pg_ctl. As root, the server runs as
// the `postgres` system user, since PostgreSQL refuses to run as root.
class PostgresServer {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
  // "" when it started; else why not.
  std::string start();
  ~PostgresServer();
  // pg_ctl stop -m fast / start again on the same port and data.
  bool stop();
  bool restart_stopped();
  // postgresql://genstack@127.0.0.1:PORT/postgres
  std::string uri() const;

 private:
  bool pg_ctl(const std::string& action);
  std::string dir_;
  uint16_t port_ = 0;
  bool running_ = false;
  bool as_postgres_user_ = false;
};

}  // namespace gs::test
