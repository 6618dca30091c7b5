// One HTTP/1.1 exchange with an upstream as coroutines on the caller's
// executor (the io thread that serves the client, so a proxied request never
// changes threads): send the request, read the response head, then the body
// piece by piece as it arrives (a stream is relayed, never collected). Idle
// keep-alive connections are kept per upstream in a ConnectionPool. Every
// wait is bounded by a timeout, and cancel() (a client that went away) makes
// the pending wait fail at once.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/server.h"

namespace gs::gateway {

// A TLS client setup for https upstreams: the system's CA certificates or
// one CA file, peer verification on (off only when asked), TLS 1.2 or later.
class TlsClient;
Result<std::shared_ptr<TlsClient>> make_tls_client(const std::string& ca_file, bool verify);

struct UpstreamAddress {
  std::string host;
  std::string port;
  std::shared_ptr<TlsClient> tls;  // null: plain HTTP
};

// An open connection to an upstream (plain or TLS), kept in a pool while idle.
struct UpstreamConnection;

// Idle connections to one upstream, shared by the io threads. A connection
// stays registered with the io_context while pooled, so reusing one costs no
// system call.
class ConnectionPool {
 public:
  explicit ConnectionPool(size_t max_idle = 64);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  std::unique_ptr<UpstreamConnection> take();  // null when none is idle
  void give(std::unique_ptr<UpstreamConnection> connection);
  // Closes every idle connection (an upstream that was removed and stopped).
  void close_idle();
  // close_idle(), and later gives close at once: the io_context the
  // connections belong to is about to go.
  void close();

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;
  size_t max_idle_;
  bool closed_ = false;
};

struct CallTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds io{300000};  // each wait for the upstream (a token may take long)
};

// Not thread-safe: every member runs on `executor` (a strand when the
// executor's io_context has several threads).
class UpstreamCall {
 public:
  UpstreamCall(boost::asio::any_io_executor executor, UpstreamAddress address, ConnectionPool& pool,
               CallTimeouts timeouts);
  ~UpstreamCall();  // returns a cleanly finished keep-alive connection to the pool
  UpstreamCall(const UpstreamCall&) = delete;
  UpstreamCall& operator=(const UpstreamCall&) = delete;

  // Sends the request and reads the response head. A failure means no byte
  // of a response arrived, so the request may be retried elsewhere.
  boost::asio::awaitable<Status> start(const std::string& method, const std::string& target,
                                       const http::Headers& headers, const std::string& body);
  int status() const;
  std::string header(std::string_view name) const;
  // The next piece of the body; empty at its end (then done() is true).
  boost::asio::awaitable<Result<std::string>> read_some();
  bool done() const;
  // True when the last failure was a wait that ran past its timeout.
  bool timed_out() const;
  // Idempotent: the pending and every later wait fail.
  void cancel();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared with its timeout timer's wait
};

struct FetchedResponse {
  int status = 0;
  std::string body;
};

// A whole GET from the calling thread (health checks, replica metrics), one
// timeout for each wait; bodies over `max_body` bytes are an error.
Result<FetchedResponse> fetch(const UpstreamAddress& address, const std::string& path,
                              std::chrono::milliseconds timeout, size_t max_body = 1 << 20);

// GET `path`; true on a 2xx answer.
bool probe(const UpstreamAddress& address, const std::string& path, std::chrono::milliseconds timeout);

}  // namespace gs::gateway
