#include "gateway/replicas.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "gateway/upstream_client.h"

namespace gs::gateway {
namespace {

// A port the kernel just handed out: another process could take it before
// the replica binds, and then the replica fails to start and is retried.
Result<uint16_t> free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Error("socket: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) return Error("no free port on 127.0.0.1: {}", std::strerror(errno));
  return ntohs(addr.sin_port);
}

Result<pid_t> spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Error("fork: {}", std::strerror(errno));
  if (pid == 0) {  // only async-signal-safe calls until exec
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // the gateway blocks SIGTERM for its own handling
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);        // no orphan replica if the gateway dies hard
    if (::getppid() != parent) _exit(1);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

bool replica_exited(pid_t pid) {
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

Result<ReplicaProcess> start_replica(const std::string& binary, const std::string& model,
                                     const std::vector<std::string>& serve_args,
                                     std::chrono::milliseconds timeout) {
  GS_ASSIGN_OR_RETURN(const uint16_t port, free_port());
  std::vector<std::string> args{
      binary, "serve", model, "--host", "127.0.0.1", "--port", std::to_string(port)};
  args.insert(args.end(), serve_args.begin(), serve_args.end());
  GS_ASSIGN_OR_RETURN(const pid_t pid, spawn(args));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (replica_exited(pid)) return Error("replica on port {} exited before it was ready", port);
    if (probe({"127.0.0.1", std::to_string(port), nullptr}, "/ready", std::chrono::milliseconds(1000))) {
      return ReplicaProcess{pid, port};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stop_replicas({pid}, std::chrono::milliseconds(2000));
  return Error("replica on port {} was not ready within {} ms", port, timeout.count());
}

double sum_metric(std::string_view text, std::string_view name) {
  double sum = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!line.starts_with(name) || line.size() <= name.size()) continue;
    if (line[name.size()] != '{' && line[name.size()] != ' ') continue;  // a longer name
    const size_t space = line.rfind(' ');
    double value = 0;
    std::from_chars(line.data() + space + 1, line.data() + line.size(), value);
    sum += value;
  }
  return sum;
}

Result<ReplicaLoad> read_replica_load(uint16_t port, std::chrono::milliseconds timeout) {
  GS_ASSIGN_OR_RETURN(FetchedResponse response,
                      fetch({"127.0.0.1", std::to_string(port), nullptr}, "/metrics", timeout, 16u << 20));
  if (response.status != 200) return Error("/metrics answered {}", response.status);
  return ReplicaLoad{sum_metric(response.body, "genstack_queue_length"),
                     sum_metric(response.body, "genstack_generation_tokens_total")};
}

void stop_replicas(const std::vector<pid_t>& pids, std::chrono::milliseconds grace) {
  for (pid_t pid : pids) ::kill(pid, SIGTERM);
  std::vector<pid_t> running = pids;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!running.empty() && std::chrono::steady_clock::now() < deadline) {
    std::erase_if(running, replica_exited);
    if (!running.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (pid_t pid : running) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

}  // namespace gs::gateway
