#include "gateway_daemons.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "test_util.h"

namespace gs::test {
namespace {

bool accepts_connections(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int run_quietly(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

}  // namespace

uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t length = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string RedisServer::start() {
  std::string binary;
  for (const char* candidate :
       {"/usr/bin/redis-server", "/usr/sbin/redis-server", "/usr/local/bin/redis-server"}) {
    if (std::filesystem::exists(candidate)) binary = candidate;
  }
  if (binary.empty()) return "redis-server is not installed (scripts/install.sh installs it)";
  port_ = free_port();
  const std::string port = std::to_string(port_);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl(binary.c_str(), binary.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    if (accepts_connections(port_)) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  return "redis-server did not accept connections within 10 s";
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = 0;
}

RedisServer::~RedisServer() { stop(); }

std::string PostgresServer::start() {
  const std::string initdb = std::string(kBinDir) + "/initdb";
  if (!std::filesystem::exists(initdb)) {
    return initdb + " is not installed (Debian's postgresql 15; scripts/install.sh installs it)";
  }
  as_postgres_user_ = ::geteuid() == 0;
  if (as_postgres_user_ && ::getpwnam("postgres") == nullptr) {
    return "running as root and there is no 'postgres' user to run PostgreSQL as";
  }
  dir_ = temp_dir();
  if (as_postgres_user_ && run_quietly("chown -R postgres: " + dir_) != 0) return "cannot chown " + dir_;
  const std::string prefix = as_postgres_user_ ? "runuser -u postgres -- " : "";
  if (run_quietly(prefix + initdb + " -D " + dir_ + "/data -A trust -U genstack") != 0) {
    return "initdb failed in " + dir_;
  }
  port_ = free_port();
  if (!pg_ctl("start")) return "pg_ctl start failed (log: " + dir_ + "/log)";
  running_ = true;
  return "";
}

bool PostgresServer::pg_ctl(const std::string& action) {
  const std::string prefix = as_postgres_user_ ? "runuser -u postgres -- " : "";
  std::string command = prefix + kBinDir + "/pg_ctl -D " + dir_ + "/data -w -l " + dir_ + "/log ";
  if (action == "start") {
    command += "-o \"-k " + dir_ + " -p " + std::to_string(port_) + " -h 127.0.0.1\" start";
  } else {
    command += "stop -m fast";
  }
  return run_quietly(command) == 0;
}

bool PostgresServer::stop() {
  if (!running_) return true;
  running_ = !pg_ctl("stop");
  return !running_;
}

bool PostgresServer::restart_stopped() {
  running_ = pg_ctl("start");
  return running_;
}

PostgresServer::~PostgresServer() { stop(); }

std::string PostgresServer::uri() const {
  return "postgresql://genstack@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

}  // namespace gs::test
