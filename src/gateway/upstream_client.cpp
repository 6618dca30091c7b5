#include "gateway/upstream_client.h"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "core/ascii.h"
#include "http/response_parser.h"

namespace gs::gateway {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr size_t kPieceBytes = 16 << 10;

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
  UpstreamConnection(const asio::any_io_executor& executor, TlsClient* tls) : socket(executor) {
    if (tls) secure = std::make_unique<ssl::stream<tcp::socket&>>(socket, tls->context);
  }
  // fn(stream) on whichever stream this is; both give the same awaitable type.
  template <typename Fn>
  auto visit(Fn fn) {
    return secure ? fn(*secure) : fn(socket);
  }

  tcp::socket socket;
  std::unique_ptr<ssl::stream<tcp::socket&>> secure;
  // Reads land here; pooled with the connection, not allocated per call (a 16 KiB block is
  // past malloc's per-thread caches).
  std::unique_ptr<char[]> scratch = std::make_unique_for_overwrite<char[]>(kPieceBytes);
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
  // Not checked for liveness (a poll per request): one the upstream closed while it was idle
  // fails at once on first use, before any byte of an answer, and the call then tries a fresh
  // connection (UpstreamCall::start), as nginx does with its cached connections.
  if (idle_.empty()) return nullptr;
  std::unique_ptr<UpstreamConnection> connection = std::move(idle_.back());
  idle_.pop_back();
  return connection;
}

void ConnectionPool::give(std::unique_ptr<UpstreamConnection> connection) {
  std::lock_guard lock(mutex_);
  if (closed_ || idle_.size() >= max_idle_) return;  // closed as it goes
  idle_.push_back(std::move(connection));
}

// The request goes out as one write of a hand-built head and the body, and the answer is read
// with http::ResponseParser: the exchange costs two system calls and little else. Timeouts are
// deadlines checked by one timer per call (see watch()), not a timer wait per read or write.
struct UpstreamCall::Impl : std::enable_shared_from_this<Impl> {
  using Clock = asio::steady_timer::clock_type;

  asio::any_io_executor executor;
  UpstreamAddress address;
  ConnectionPool& pool;
  CallTimeouts timeouts;
  std::unique_ptr<UpstreamConnection> connection;
  std::string buffer;  // read from the upstream, not yet parsed
  std::optional<http::ResponseParser> parser;
  bool failed = false;
  bool timed_out = false;
  bool cancelled = false;

  asio::steady_timer timer;
  bool timer_armed = false;
  bool waiting = false;  // a read, write or connect is pending
  Clock::time_point deadline = Clock::time_point::max();

  Impl(asio::any_io_executor e, UpstreamAddress a, ConnectionPool& p, CallTimeouts t)
      : executor(std::move(e)), address(std::move(a)), pool(p), timeouts(t), timer(executor) {}

  // Before each wait: it fails with a timeout unless it ends within `limit`. The timer is
  // armed only when the deadline comes before its expiry; when it fires early it waits on.
  void begin_wait(std::chrono::milliseconds limit) {
    waiting = true;
    deadline = Clock::now() + limit;
    if (timer_armed && timer.expiry() <= deadline) return;
    timer_armed = true;
    timer.expires_at(deadline);
    timer.async_wait([weak = weak_from_this()](error_code ec) {
      if (auto self = weak.lock(); self && ec != asio::error::operation_aborted) self->on_timer();
    });
  }

  void end_wait() { waiting = false; }

  void on_timer() {
    timer_armed = false;
    if (!waiting || !connection) return;
    if (Clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      begin_wait(left + std::chrono::milliseconds(1));
      return;
    }
    timed_out = true;
    error_code ignored;
    connection->socket.close(ignored);  // the pending wait fails at once
  }

  error_code note(error_code ec) {
    end_wait();
    if (ec && timed_out) return asio::error::timed_out;
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
    begin_wait(timeouts.connect);
    co_await tls.async_handshake(ssl::stream_base::client, with_error(ec));
    if ((ec = note(ec))) co_return Error("TLS with {}:{}: {}", address.host, address.port, ec.message());
    co_return Status::Ok();
  }

  asio::awaitable<Status> connect_fresh() {
    auto endpoints = co_await resolve();
    if (!endpoints.ok()) co_return endpoints.status();
    if (cancelled) co_return Error("cancelled");
    connection = std::make_unique<UpstreamConnection>(executor, address.tls.get());
    error_code ec;
    begin_wait(timeouts.connect);
    co_await asio::async_connect(connection->socket, *endpoints, with_error(ec));
    if ((ec = note(ec))) {
      co_return Error("cannot connect to {}:{}: {}", address.host, address.port, ec.message());
    }
    connection->socket.set_option(tcp::no_delay(true), ec);       // a request is one write: send it now
    if (!address.tls) connection->socket.non_blocking(true, ec);  // exchange() writes without waiting
    if (address.tls) co_return co_await handshake();
    co_return Status::Ok();
  }

  void drop_connection() {
    connection.reset();
    buffer.clear();
  }

  // Reads once more from the upstream into `buffer`; false at the end of the connection.
  asio::awaitable<Result<bool>> read_more() {
    error_code ec;
    size_t n = 0;
    if (!connection->secure && connection->socket.non_blocking()) {
      // Bytes already there are taken at once: Asio would read them too, but post the
      // completion, and every post costs the io thread another epoll poll.
      n = connection->socket.read_some(asio::buffer(connection->scratch.get(), kPieceBytes), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
    }
    if (n == 0 && !ec) {
      begin_wait(timeouts.io);
      n = co_await connection->visit([&](auto& stream) {
        return stream.async_read_some(asio::buffer(connection->scratch.get(), kPieceBytes), with_error(ec));
      });
    }
    ec = note(ec);
    buffer.append(connection->scratch.get(), n);
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) co_return false;
    if (ec) co_return Error("reading from {}:{}: {}", address.host, address.port, ec.message());
    co_return true;
  }

  // Parses what `buffer` holds; body bytes go to `body`.
  Status parse(std::string& body) {
    auto used = parser->feed(buffer, body);
    if (!used.ok()) return Error("{}:{} answered {}", address.host, address.port, used.error());
    buffer.erase(0, *used);
    return Status::Ok();
  }

  asio::awaitable<Status> exchange(const std::string& head, const std::string& body) {
    if (cancelled) co_return Error("cancelled");
    error_code ec;
    begin_wait(timeouts.io);
    std::array<asio::const_buffer, 2> request{asio::buffer(head), asio::buffer(body)};
    if (!connection->secure && connection->socket.non_blocking()) {
      // Written now where it fits the socket's send buffer (nearly always): an asynchronous
      // write's completion is posted, and every post costs the io thread another epoll poll.
      size_t sent = connection->socket.write_some(request, ec);  // the socket is non-blocking
      if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
      for (asio::const_buffer& part : request) {
        const size_t n = std::min(sent, part.size());
        part += n;
        sent -= n;
      }
    }
    if (!ec && request[0].size() + request[1].size() > 0) {
      co_await connection->visit(
          [&](auto& stream) { return asio::async_write(stream, request, with_error(ec)); });
    }
    if ((ec = note(ec))) co_return Error("sending to {}:{}: {}", address.host, address.port, ec.message());
    parser.emplace();
    std::string early_body;  // body bytes that came with the head
    while (!parser->head_done()) {
      auto more = co_await read_more();
      if (!more.ok()) co_return more.status();
      if (Status parsed = parse(early_body); !parsed.ok()) co_return parsed;
      if (!*more && !parser->head_done()) {
        co_return Error("reading from {}:{}: connection closed before an answer", address.host, address.port);
      }
      if (!*more) at_eof = true;
    }
    pending_body = std::move(early_body);
    co_return Status::Ok();
  }

  std::string pending_body;  // body bytes parsed with the head, not yet handed out
  bool at_eof = false;
};

UpstreamCall::UpstreamCall(asio::any_io_executor executor, UpstreamAddress address, ConnectionPool& pool,
                           CallTimeouts timeouts)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(address), pool, timeouts)) {}

UpstreamCall::~UpstreamCall() {
  Impl& s = *impl_;
  s.timer.cancel();
  const bool reusable = !s.failed && !s.cancelled && !s.at_eof && s.connection && s.parser &&
                        s.parser->done() && s.parser->keep_alive() && s.buffer.empty() &&
                        s.pending_body.empty() && s.connection->socket.is_open();
  if (reusable) s.pool.give(std::move(s.connection));
}

namespace {

bool is_framing_header(std::string_view name) {
  return ascii_iequals(name, "host") || ascii_iequals(name, "content-length") ||
         ascii_iequals(name, "transfer-encoding") || ascii_iequals(name, "connection");
}

}  // namespace

asio::awaitable<Status> UpstreamCall::start(const std::string& method, const std::string& target,
                                            const http::Headers& headers, const std::string& body) {
  Impl& s = *impl_;
  std::string head;
  head.reserve(256 + target.size());
  head.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  head.append(s.address.host).append(":").append(s.address.port).append("\r\n");
  for (const auto& [name, value] : headers) {
    if (is_framing_header(name)) continue;  // set here, from what is sent
    if (name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      co_return Error("header {} cannot be sent", name);
    }
    head.append(name).append(": ").append(value).append("\r\n");
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  head.append("\r\n");
  // A pooled connection may have been closed by the upstream just now; one
  // fresh connection is then tried before the failure counts.
  if ((s.connection = s.pool.take())) {
    if ((co_await s.exchange(head, body)).ok()) co_return Status::Ok();
    s.drop_connection();
    s.timed_out = false;
  }
  Status status = co_await s.connect_fresh();
  if (status.ok()) status = co_await s.exchange(head, body);
  if (!status.ok()) {
    s.failed = true;
    s.drop_connection();
  }
  co_return status;
}

int UpstreamCall::status() const { return impl_->parser ? impl_->parser->status() : 0; }

std::string UpstreamCall::header(std::string_view name) const {
  return impl_->parser ? std::string(impl_->parser->header(name)) : "";
}

bool UpstreamCall::done() const {
  return impl_->parser && impl_->parser->done() && impl_->pending_body.empty();
}
bool UpstreamCall::timed_out() const { return impl_->timed_out; }

asio::awaitable<Result<std::string>> UpstreamCall::read_some() {
  Impl& s = *impl_;
  if (!s.parser || s.failed || !s.connection) co_return Error("no response to read");
  std::string piece = std::move(s.pending_body);
  s.pending_body.clear();
  while (piece.empty() && !s.parser->done()) {
    if (s.cancelled) {
      s.failed = true;
      co_return Error("cancelled");
    }
    if (!s.buffer.empty()) {
      if (Status parsed = s.parse(piece); !parsed.ok()) {
        s.failed = true;
        co_return parsed;
      }
      if (!piece.empty() || s.parser->done()) break;
    }
    if (s.at_eof) {
      if (Status finished = s.parser->finish(); !finished.ok()) {
        s.failed = true;
        co_return Error("reading from {}:{}: {}", s.address.host, s.address.port, finished.message());
      }
      break;
    }
    auto more = co_await s.read_more();
    if (!more.ok()) {
      s.failed = true;
      co_return more.status();
    }
    if (!*more) s.at_eof = true;
  }
  co_return piece;
}

void UpstreamCall::cancel() {
  impl_->cancelled = true;
  error_code ignored;
  if (impl_->connection) impl_->connection->socket.close(ignored);
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
