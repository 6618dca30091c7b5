#include "gateway/upstream_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

namespace gs::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
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

auto with_error(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

}  // namespace

class TlsClient {
 public:
  TlsClient() : context(ssl::context::tls_client) {}
  ssl::context context;
  bool verify = true;
};

Result<std::shared_ptr<TlsClient>> make_tls_client(const std::string& ca_file, bool verify) {
  auto tls = std::make_shared<TlsClient>();
  tls->verify = verify;
  error_code ec;
  tls->context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                           ec);
  if (ca_file.empty()) {
    tls->context.set_default_verify_paths(ec);
  } else {
    tls->context.load_verify_file(ca_file, ec);
  }
  if (ec) return Error("TLS CA certificates {}: {}", ca_file.empty() ? "(system)" : ca_file, ec.message());
  tls->context.set_verify_mode(verify ? ssl::verify_peer : ssl::verify_none);
  return tls;
}

struct UpstreamConnection {
  UpstreamConnection(asio::any_io_executor executor, TlsClient* tls) {
    if (tls) {
      secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(executor), tls->context);
    } else {
      plain = std::make_unique<beast::tcp_stream>(std::move(executor));
    }
  }
  // Its timer closes the socket when a wait runs past its timeout.
  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  // fn(stream) on whichever stream this is; both give the same awaitable type.
  template <typename Fn>
  auto visit(Fn fn) {
    return secure ? fn(*secure) : fn(*plain);
  }

  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
};

ConnectionPool::ConnectionPool(size_t max_idle) : max_idle_(max_idle) {}
ConnectionPool::~ConnectionPool() = default;

void ConnectionPool::close_idle() {
  std::vector<std::unique_ptr<UpstreamConnection>> closing;
  std::lock_guard lock(mutex_);
  closing.swap(idle_);
}

void ConnectionPool::close() {
  close_idle();
  std::lock_guard lock(mutex_);
  closed_ = true;
}

std::unique_ptr<UpstreamConnection> ConnectionPool::take() {
  std::lock_guard lock(mutex_);
  while (!idle_.empty()) {
    std::unique_ptr<UpstreamConnection> connection = std::move(idle_.back());
    idle_.pop_back();
    if (idle_connection_alive(connection->tcp().socket().native_handle())) return connection;
  }
  return nullptr;
}

void ConnectionPool::give(std::unique_ptr<UpstreamConnection> connection) {
  std::lock_guard lock(mutex_);
  if (closed_ || idle_.size() >= max_idle_) return;  // closed as it goes
  idle_.push_back(std::move(connection));
}

struct UpstreamCall::Impl {
  asio::any_io_executor executor;
  UpstreamAddress address;
  ConnectionPool& pool;
  CallTimeouts timeouts;
  std::unique_ptr<UpstreamConnection> connection;
  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  bool failed = false;
  bool timed_out = false;
  bool cancelled = false;

  Impl(asio::any_io_executor e, UpstreamAddress a, ConnectionPool& p, CallTimeouts t)
      : executor(std::move(e)), address(std::move(a)), pool(p), timeouts(t) {}

  error_code note(error_code ec) {
    timed_out = ec == beast::error::timeout;
    return ec;
  }

  asio::awaitable<Result<std::vector<tcp::endpoint>>> resolve() {
    error_code ec;
    // Numeric hosts (the usual replica on 127.0.0.1) need no resolver thread.
    const auto ip = asio::ip::make_address(address.host, ec);
    const auto port = static_cast<uint16_t>(std::stoul(address.port));
    if (!ec) co_return std::vector<tcp::endpoint>{tcp::endpoint(ip, port)};
    tcp::resolver resolver(executor);
    const auto found = co_await resolver.async_resolve(address.host, address.port, with_error(ec));
    if (ec) co_return Error("cannot resolve {}: {}", address.host, ec.message());
    co_return std::vector<tcp::endpoint>(found.begin(), found.end());
  }

  asio::awaitable<Status> handshake() {
    auto& tls = *connection->secure;
    error_code ec;
    asio::ip::make_address(address.host, ec);
    if (ec) SSL_set_tlsext_host_name(tls.native_handle(), address.host.c_str());  // SNI takes names only
    if (address.tls->verify) tls.set_verify_callback(ssl::host_name_verification(address.host));
    ec = {};
    connection->tcp().expires_after(timeouts.connect);
    co_await connection->secure->async_handshake(ssl::stream_base::client, with_error(ec));
    if (note(ec)) co_return Error("TLS with {}:{}: {}", address.host, address.port, ec.message());
    co_return Status::Ok();
  }

  asio::awaitable<Status> connect_fresh() {
    auto endpoints = co_await resolve();
    if (!endpoints.ok()) co_return endpoints.status();
    if (cancelled) co_return Error("cancelled");
    connection = std::make_unique<UpstreamConnection>(executor, address.tls.get());
    error_code ec;
    connection->tcp().expires_after(timeouts.connect);
    co_await connection->tcp().async_connect(*endpoints, with_error(ec));
    if (note(ec)) co_return Error("cannot connect to {}:{}: {}", address.host, address.port, ec.message());
    if (address.tls) co_return co_await handshake();
    co_return Status::Ok();
  }

  void drop_connection() {
    connection.reset();
    buffer.clear();
  }

  asio::awaitable<Status> exchange(const bhttp::request<bhttp::string_body>& request) {
    if (cancelled) co_return Error("cancelled");
    error_code ec;
    connection->tcp().expires_after(timeouts.io);
    co_await connection->visit([&](auto& stream) { return bhttp::async_write(stream, request, with_error(ec)); });
    if (note(ec)) co_return Error("sending to {}:{}: {}", address.host, address.port, ec.message());
    parser.emplace();
    parser->body_limit(boost::none);
    connection->tcp().expires_after(timeouts.io);
    co_await connection->visit(
        [&](auto& stream) { return bhttp::async_read_header(stream, buffer, *parser, with_error(ec)); });
    if (note(ec)) co_return Error("reading from {}:{}: {}", address.host, address.port, ec.message());
    co_return Status::Ok();
  }
};

UpstreamCall::UpstreamCall(asio::any_io_executor executor, UpstreamAddress address, ConnectionPool& pool,
                           CallTimeouts timeouts)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(address), pool, timeouts)) {}

UpstreamCall::~UpstreamCall() {
  Impl& s = *impl_;
  const bool reusable = !s.failed && !s.cancelled && s.connection && s.parser && s.parser->is_done() &&
                        s.parser->get().keep_alive() && s.buffer.size() == 0 &&
                        s.connection->tcp().socket().is_open();
  if (reusable) {
    s.connection->tcp().expires_never();
    s.pool.give(std::move(s.connection));
  }
}

asio::awaitable<Status> UpstreamCall::start(const std::string& method, const std::string& target,
                                            const http::Headers& headers, const std::string& body) {
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
  if ((s.connection = s.pool.take())) {
    if ((co_await s.exchange(request)).ok()) co_return Status::Ok();
    s.drop_connection();
  }
  Status status = co_await s.connect_fresh();
  if (status.ok()) status = co_await s.exchange(request);
  if (!status.ok()) {
    s.failed = true;
    s.drop_connection();
  }
  co_return status;
}

int UpstreamCall::status() const { return impl_->parser ? impl_->parser->get().result_int() : 0; }

std::string UpstreamCall::header(std::string_view name) const {
  if (!impl_->parser) return "";
  auto it = impl_->parser->get().find(beast::string_view(name.data(), name.size()));
  return it == impl_->parser->get().end() ? "" : std::string(it->value());
}

bool UpstreamCall::done() const { return impl_->parser && impl_->parser->is_done(); }
bool UpstreamCall::timed_out() const { return impl_->timed_out; }

asio::awaitable<Result<std::string>> UpstreamCall::read_some() {
  Impl& s = *impl_;
  if (!s.parser || s.failed || !s.connection) co_return Error("no response to read");
  std::string piece;
  while (piece.empty() && !s.parser->is_done()) {
    if (s.cancelled) {
      s.failed = true;
      co_return Error("cancelled");
    }
    piece.resize(kPieceBytes);
    s.parser->get().body().data = piece.data();
    s.parser->get().body().size = piece.size();
    error_code ec;
    s.connection->tcp().expires_after(s.timeouts.io);
    co_await s.connection->visit(
        [&](auto& stream) { return bhttp::async_read_some(stream, s.buffer, *s.parser, with_error(ec)); });
    if (ec == bhttp::error::need_buffer) ec = {};
    if (s.note(ec)) {
      s.failed = true;
      co_return Error("reading from {}:{}: {}", s.address.host, s.address.port, ec.message());
    }
    piece.resize(piece.size() - s.parser->get().body().size);
  }
  co_return piece;
}

void UpstreamCall::cancel() {
  impl_->cancelled = true;
  error_code ignored;
  if (impl_->connection) impl_->connection->tcp().socket().close(ignored);
}

Result<FetchedResponse> fetch(const UpstreamAddress& address, const std::string& path,
                              std::chrono::milliseconds timeout, size_t max_body) {
  asio::io_context ioc;
  std::optional<Result<FetchedResponse>> outcome;
  auto exchange = [&]() -> asio::awaitable<Result<FetchedResponse>> {
    ConnectionPool no_reuse(0);
    UpstreamCall call(ioc.get_executor(), address, no_reuse, CallTimeouts{timeout, timeout});
    if (Status started = co_await call.start("GET", path, {}, ""); !started.ok()) co_return started;
    FetchedResponse response{call.status(), ""};
    while (!call.done()) {
      auto piece = co_await call.read_some();
      if (!piece.ok()) co_return piece.status();
      response.body += *piece;
      if (response.body.size() > max_body) co_return Error("{} answered more than {} bytes", path, max_body);
    }
    co_return response;
  };
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> { outcome.emplace(co_await exchange()); }, asio::detached);
  ioc.run();
  return outcome ? std::move(*outcome) : Result<FetchedResponse>(Error("{}: internal error", path));
}

bool probe(const UpstreamAddress& address, const std::string& path, std::chrono::milliseconds timeout) {
  auto response = fetch(address, path, timeout);
  return response.ok() && response->status >= 200 && response->status < 300;
}

}  // namespace gs::gateway
