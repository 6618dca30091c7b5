#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "http/connection.h"
#include "http/response.h"

namespace gs::http {

namespace {

using boost::system::error_code;

// Every connection holds a descriptor, and a process with the usual soft limit
// of 1024 fails to accept long before max_connections. The hard limit is the
// ceiling an unprivileged process may raise itself to; raising the soft limit
// only matters to this process and its children.
void raise_fd_limit(size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t need = static_cast<rlim_t>(max_connections) + 128;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= need) return;
  if (limit.rlim_cur == RLIM_INFINITY) return;
  // An infinite hard limit cannot be the soft one (the kernel caps it at nr_open).
  const rlim_t target = limit.rlim_max == RLIM_INFINITY ? need : limit.rlim_max;
  if (target <= limit.rlim_cur) return;
  limit.rlim_cur = target;
  setrlimit(RLIMIT_NOFILE, &limit);  // best effort: accept errors say the rest
}

bool is_resource_error(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

// TLS 1.2 and later; no compression (CRIME); our cipher order rather than the client's; no
// renegotiation (a client could make the server redo expensive handshakes on one connection).
Result<asio::ssl::context> make_tls_context(const ServerOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return Status::Error("http server: TLS needs both a certificate file and a key file");
  asio::ssl::context context(asio::ssl::context::tls_server);
  SSL_CTX* ctx = context.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  // OpenSSL otherwise keeps ~34 KiB of record buffers per connection, idle ones included.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  error_code ec;
  context.use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) return Error("cannot load the TLS certificate {}: {}", options.tls_cert_file, ec.message());
  context.use_private_key_file(options.tls_key_file, asio::ssl::context::pem, ec);
  // OpenSSL checks the pair while loading the key; say so in words rather than its reason text.
  const bool mismatch = ec && ec.category() == asio::error::get_ssl_category() &&
                        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  if (mismatch || (!ec && SSL_CTX_check_private_key(ctx) != 1)) {
    ERR_clear_error();
    return Error("the TLS key {} does not match the certificate {}", options.tls_key_file,
                 options.tls_cert_file);
  }
  if (ec) return Error("cannot load the TLS key {}: {}", options.tls_key_file, ec.message());
  return context;
}

}  // namespace

Server::Impl::Impl(const ServerOptions& options_in, Handler handler_in)
    : options(options_in),
      handler(std::move(handler_in)),
      ioc(std::max(1, options_in.io_threads)),
      strand(asio::make_strand(ioc)),
      acceptor(strand),
      accept_backoff(strand),
      stop_timer(strand) {}

Result<std::unique_ptr<Server>> Server::create(const ServerOptions& options, Handler handler) {
  // Asio throws only where the system fails it (no descriptor for epoll, no memory).
  try {
    return create_or_throw(options, std::move(handler));
  } catch (const std::exception& e) {
    return Error("cannot start the http server on {}:{}: {}", options.host, options.port, e.what());
  }
}

Result<std::unique_ptr<Server>> Server::create_or_throw(const ServerOptions& options, Handler handler) {
  if (!handler) return Status::Error("http server: no request handler");
  if (options.io_threads < 1)
    return Error("http server: io_threads must be at least 1, not {}", options.io_threads);
  if (options.max_connections < 1) return Status::Error("http server: max_connections must be at least 1");
  raise_fd_limit(options.max_connections);

  auto impl = std::make_unique<Impl>(options, std::move(handler));
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    auto context = make_tls_context(options);
    if (!context.ok()) return context.status();
    impl->tls.emplace(std::move(*context));
  }
  const std::string where = fmt::format("{}:{}", options.host, options.port);
  error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(impl->ioc);
    const auto results = resolver.resolve(options.host, std::to_string(options.port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return Error("cannot listen on {}: host does not resolve ({})", where,
                   ec ? ec.message() : "no address");
    }
    endpoint = results.begin()->endpoint();
  }

  tcp::acceptor& acceptor = impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);  // restart despite TIME_WAIT
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec == asio::error::address_in_use) {
    return Error("cannot listen on {}: the port is already in use by another process", where);
  }
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error("cannot listen on {}: {}", where, ec.message());
  impl->port = acceptor.local_endpoint(ec).port();
  if (ec) return Error("cannot listen on {}: {}", where, ec.message());

  impl->work.emplace(impl->ioc.get_executor());
  Impl* raw = impl.get();
  asio::post(raw->strand, [raw] { raw->accept(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop(std::chrono::milliseconds(0));
  {
    std::unique_lock lock(impl_->mutex);
    impl_->run_cv.wait(lock, [&] { return !impl_->running; });
  }
  {
    // From here on writers held elsewhere no longer touch the io_context.
    std::unique_lock lock(impl_->lifeline->mutex);
    impl_->lifeline->alive = false;
  }
  decltype(impl_->connections) connections;
  {
    std::lock_guard lock(impl_->mutex);
    connections.swap(impl_->connections);
  }
  connections.clear();
  error_code ec;
  impl_->acceptor.close(ec);
  impl_->work.reset();
}

uint16_t Server::port() const { return impl_->port; }

size_t Server::open_connections() const { return impl_->open.load(); }

void Server::run() {
  {
    std::unique_lock lock(impl_->mutex);
    if (impl_->finished) return;
    if (impl_->running) {  // a second caller just waits for the end
      impl_->run_cv.wait(lock, [&] { return !impl_->running; });
      return;
    }
    impl_->running = true;
  }
  auto serve = [this] {
    while (true) {
      try {
        impl_->ioc.run();
        return;
      } catch (const std::exception& e) {  // nothing should throw; keep serving if it does
        std::fprintf(stderr, "genstack: http: io thread: %s\n", e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->options.io_threads; ++i) threads.emplace_back(serve);
  serve();
  for (std::thread& thread : threads) thread.join();
  std::lock_guard lock(impl_->mutex);
  impl_->running = false;
  impl_->finished = true;
  impl_->run_cv.notify_all();
}

void Server::stop(std::chrono::milliseconds deadline) {
  const auto when = std::chrono::steady_clock::now() + std::max(deadline, std::chrono::milliseconds(0));
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stop_done) return;
    if (impl_->stopping && when >= impl_->stop_deadline) return;
    impl_->stopping = true;
    impl_->stop_deadline = when;
  }
  Impl* impl = impl_.get();
  asio::post(impl->strand, [impl] { impl->begin_stop(); });
}

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        [this](error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void Server::Impl::on_accept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    if (is_resource_error(ec)) {
      // Out of descriptors: retrying at once would spin; existing connections free some.
      accept_backoff.expires_after(std::chrono::milliseconds(50));
      accept_backoff.async_wait([this](error_code wait_ec) {
        if (!wait_ec && acceptor.is_open()) accept();
      });
      return;
    }
    accept();  // e.g. the peer reset before we accepted
    return;
  }
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(mutex);
    if (stopping) {
      error_code ignored;
      socket.close(ignored);
      return;
    }
    if (connections.size() < options.max_connections) {
      connection = std::make_shared<Connection>(*this, std::move(socket));
      connections.emplace(connection.get(), connection);
      open.fetch_add(1);
    }
  }
  if (connection) {
    connection->start();
  } else {
    reject(std::move(socket));
  }
  accept();
}

void Server::Impl::reject(tcp::socket socket) {
  // Best effort: the client may see a reset instead if it had sent its request already.
  static const std::string response = error_response(503, "the server has too many connections");
  if (tls) {  // plain bytes mean nothing to a TLS client, and a handshake costs what we lack
    error_code ignored;
    socket.close(ignored);
    return;
  }
  auto held = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*held, asio::buffer(response), [held](error_code, size_t) {
    error_code ignored;
    held->shutdown(tcp::socket::shutdown_both, ignored);
    held->close(ignored);
  });
}

void Server::Impl::remove(Connection* connection) {
  std::shared_ptr<Connection> held;  // released outside the lock
  bool all_closed = false;
  {
    std::lock_guard lock(mutex);
    auto it = connections.find(connection);
    if (it == connections.end()) return;
    held = std::move(it->second);
    connections.erase(it);
    open.fetch_sub(1);
    all_closed = stopping && connections.empty();
  }
  if (all_closed) asio::post(strand, [this] { finish_stop(); });
}

void Server::Impl::begin_stop() {
  error_code ec;
  acceptor.close(ec);
  accept_backoff.cancel();
  std::vector<std::shared_ptr<Connection>> snapshot;
  std::chrono::steady_clock::time_point deadline;
  {
    std::lock_guard lock(mutex);
    if (stop_done) return;
    deadline = stop_deadline;
    snapshot.reserve(connections.size());
    for (const auto& entry : connections) snapshot.push_back(entry.second);
  }
  for (const auto& connection : snapshot) {
    asio::post(connection->executor(), [connection] { connection->stop_gracefully(); });
  }
  stop_timer.expires_at(deadline);
  stop_timer.async_wait([this](error_code wait_ec) {
    if (!wait_ec) force_close_all();
  });
  if (snapshot.empty()) finish_stop();
}

void Server::Impl::force_close_all() {
  std::vector<std::shared_ptr<Connection>> snapshot;
  {
    std::lock_guard lock(mutex);
    for (const auto& entry : connections) snapshot.push_back(entry.second);
  }
  for (const auto& connection : snapshot) {
    asio::post(connection->executor(), [connection] { connection->close(); });
  }
}

void Server::Impl::finish_stop() {
  {
    std::lock_guard lock(mutex);
    if (stop_done || !connections.empty()) return;
    stop_done = true;
  }
  stop_timer.cancel();
  work.reset();
  ioc.stop();
}

}  // namespace gs::http
