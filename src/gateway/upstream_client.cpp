#include "gateway/upstream_client.h"

#include "gateway/blocking_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace gs::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr size_t kPieceBytes = 16 << 10;

// A pooled connection the upstream closed while idle reads as ready (EOF):
// such a one must not be reused.
bool idle_connection_alive(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

// One per thread, reused by its calls (one at a time): an io_context costs
// an epoll instance and a timer descriptor, too much to make per request.
asio::io_context& thread_io_context() {
  thread_local asio::io_context ioc;
  return ioc;
}

}  // namespace

ConnectionPool::~ConnectionPool() {
  for (int fd : idle_) ::close(fd);
}

void ConnectionPool::close_idle() {
  std::lock_guard lock(mutex_);
  for (int fd : idle_) ::close(fd);
  idle_.clear();
}

int ConnectionPool::take() {
  std::lock_guard lock(mutex_);
  while (!idle_.empty()) {
    const int fd = idle_.back();
    idle_.pop_back();
    if (idle_connection_alive(fd)) return fd;
    ::close(fd);
  }
  return -1;
}

void ConnectionPool::give(int fd) {
  std::lock_guard lock(mutex_);
  if (idle_.size() >= max_idle_) {
    ::close(fd);
    return;
  }
  idle_.push_back(fd);
}

struct UpstreamCall::Impl {
  UpstreamAddress address;
  ConnectionPool& pool;
  CallTimeouts timeouts;
  asio::io_context& ioc = thread_io_context();
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  http::Headers headers;
  bool failed = false;
  bool timed_out = false;

  std::mutex mutex;  // guards the two below against cancel() from another thread
  bool cancelled = false;
  int published_fd = -1;

  Impl(UpstreamAddress a, ConnectionPool& p, CallTimeouts t) : address(std::move(a)), pool(p), timeouts(t) {}

  // Runs one asynchronous operation to completion on this thread, closing
  // the socket if it takes longer than `timeout`.
  template <typename Start>
  error_code wait(Start start, std::chrono::milliseconds timeout) {
    const error_code ec = run_with_timeout(ioc, socket, timeout, start);
    timed_out = ec == asio::error::timed_out;
    return ec;
  }

  bool is_cancelled() {
    std::lock_guard lock(mutex);
    return cancelled;
  }

  void publish_fd(int fd) {
    std::lock_guard lock(mutex);
    published_fd = fd;
    if (cancelled && fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

  Status connect_fresh() {
    tcp::resolver resolver(ioc);
    error_code ec;
    const auto endpoints = resolver.resolve(address.host, address.port, ec);
    if (ec) return Error("cannot resolve {}: {}", address.host, ec.message());
    ec = wait([&](auto handler) { asio::async_connect(socket, endpoints, handler); }, timeouts.connect);
    if (ec) return Error("cannot connect to {}:{}: {}", address.host, address.port, ec.message());
    publish_fd(socket.native_handle());
    return Status::Ok();
  }

  bool adopt_pooled() {
    const int fd = pool.take();
    if (fd < 0) return false;
    int domain = AF_INET;
    socklen_t len = sizeof domain;
    ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    error_code ec;
    socket.assign(domain == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      return false;
    }
    publish_fd(fd);
    return true;
  }

  void drop_socket() {
    publish_fd(-1);
    error_code ignored;
    socket.close(ignored);
    buffer.clear();
  }

  Status exchange(const bhttp::request<bhttp::string_body>& request) {
    if (is_cancelled()) return Error("cancelled");
    error_code ec = wait([&](auto handler) { bhttp::async_write(socket, request, handler); }, timeouts.io);
    if (ec) return Error("sending to {}:{}: {}", address.host, address.port, ec.message());
    parser.emplace();
    parser->body_limit(boost::none);
    ec = wait([&](auto handler) { bhttp::async_read_header(socket, buffer, *parser, handler); }, timeouts.io);
    if (ec) return Error("reading from {}:{}: {}", address.host, address.port, ec.message());
    return Status::Ok();
  }
};

UpstreamCall::UpstreamCall(UpstreamAddress address, ConnectionPool& pool, CallTimeouts timeouts)
    : impl_(std::make_unique<Impl>(std::move(address), pool, timeouts)) {}

UpstreamCall::~UpstreamCall() {
  Impl& s = *impl_;
  const bool reusable = !s.failed && s.parser && s.parser->is_done() && s.parser->get().keep_alive() &&
                        s.buffer.size() == 0 && !s.is_cancelled() && s.socket.is_open();
  s.publish_fd(-1);
  if (reusable) {
    s.pool.give(s.socket.release());
  }
}

Status UpstreamCall::start(const std::string& method, const std::string& target, const http::Headers& headers,
                           const std::string& body) {
  Impl& s = *impl_;
  bhttp::request<bhttp::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  for (const auto& [name, value] : headers) request.insert(name, value);
  request.set(bhttp::field::host, s.address.host + ":" + s.address.port);
  request.keep_alive(true);
  request.body() = body;
  request.prepare_payload();
  // A pooled connection may have been closed by the upstream just now; one
  // fresh connection is then tried before the failure counts.
  if (s.adopt_pooled()) {
    if (s.exchange(request).ok()) return Status::Ok();
    s.drop_socket();
  }
  Status status = s.connect_fresh();
  if (status.ok()) status = s.exchange(request);
  if (!status.ok()) {
    s.failed = true;
    s.drop_socket();
    return status;
  }
  for (const auto& field : s.parser->get()) {
    s.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return Status::Ok();
}

int UpstreamCall::status() const { return impl_->parser ? impl_->parser->get().result_int() : 0; }
const http::Headers& UpstreamCall::headers() const { return impl_->headers; }

std::string UpstreamCall::header(std::string_view name) const {
  if (!impl_->parser) return "";
  auto it = impl_->parser->get().find(beast::string_view(name.data(), name.size()));
  return it == impl_->parser->get().end() ? "" : std::string(it->value());
}

bool UpstreamCall::done() const { return impl_->parser && impl_->parser->is_done(); }
bool UpstreamCall::timed_out() const { return impl_->timed_out; }

Result<std::string> UpstreamCall::read_some() {
  Impl& s = *impl_;
  if (!s.parser || s.failed) return Error("no response to read");
  std::string piece;
  while (piece.empty() && !s.parser->is_done()) {
    if (s.is_cancelled()) {
      s.failed = true;
      return Error("cancelled");
    }
    piece.resize(kPieceBytes);
    s.parser->get().body().data = piece.data();
    s.parser->get().body().size = piece.size();
    error_code ec = s.wait(
        [&](auto handler) { bhttp::async_read_some(s.socket, s.buffer, *s.parser, handler); }, s.timeouts.io);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      s.failed = true;
      return Error("reading from {}:{}: {}", s.address.host, s.address.port, ec.message());
    }
    piece.resize(piece.size() - s.parser->get().body().size);
  }
  return piece;
}

void UpstreamCall::cancel() {
  std::lock_guard lock(impl_->mutex);
  impl_->cancelled = true;
  if (impl_->published_fd >= 0) ::shutdown(impl_->published_fd, SHUT_RDWR);
}

bool probe(const UpstreamAddress& address, const std::string& path, std::chrono::milliseconds timeout) {
  ConnectionPool no_reuse(0);
  UpstreamCall call(address, no_reuse, CallTimeouts{timeout, timeout});
  if (!call.start("GET", path, {}, "").ok()) return false;
  while (!call.done()) {
    if (!call.read_some().ok()) return false;
  }
  return call.status() >= 200 && call.status() < 300;
}

}  // namespace gs::gateway
