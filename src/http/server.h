// A small asynchronous HTTP/1.1 server (Boost.Asio, our own request parser) for the
// OpenAI/Ollama API: keep-alive, pipelining, chunked streaming responses
// written from any thread, disconnect detection while a response is pending,
// request limits and timeouts, graceful stop.
//
// Threading, in short (details on each member):
// - the Handler runs on an io thread and must not block: hand long work to
//   another thread together with the ResponseWriter;
// - ResponseWriter methods may be called from any thread, during or after the
//   handler, even after the connection or the Server is gone (they then do
//   nothing and write() returns false);
// - on_disconnect callbacks run on an io thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gs::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ... as sent (case preserved)
  std::string target;  // raw target, e.g. "/v1/models/x?y=1"
  std::string path;    // percent-decoded path without the query ("%2F" becomes "/")
  Headers query;       // decoded query parameters in order ("+" is a space); "a" alone gives {"a", ""}
  Headers headers;     // in order, names as sent
  std::string body;    // chunked request bodies arrive already de-chunked
  std::string remote_address;  // "127.0.0.1:54321" ("[::1]:54321" for IPv6)
  int version = 11;            // 10 for HTTP/1.0, 11 for HTTP/1.1

  // First header with this name, compared case-insensitively; "" if absent.
  std::string_view header(std::string_view name) const;
  // First query parameter with this exact name; "" if absent.
  std::string_view query_param(std::string_view name) const;
};

// One response to one request. Thread-safe: any method may be called from any
// thread, including after the handler returned. The first of send() or
// begin_stream() wins; later calls of either are ignored.
//
// Dropping the last reference without responding makes the server answer
// 500 (JSON error body); dropping it mid-stream ends the stream as end() does.
class ResponseWriter {
 public:
  // A complete response with Content-Length. extra_headers e.g. {"Retry-After", "2"}; CR/LF in
  // names or values are replaced by spaces. A HEAD request gets the headers without the body.
  virtual void send(int status, std::string_view content_type, std::string body,
                    Headers extra_headers = {}) = 0;
  // Starts a chunked response (SSE: text/event-stream; NDJSON: application/x-ndjson).
  // To an HTTP/1.0 client the body is sent unframed and the connection closed at end().
  virtual void begin_stream(int status, std::string_view content_type, Headers extra_headers = {}) = 0;
  // Queues one chunk (empty data is ignored); never blocks. Returns false once the client is gone
  // (the caller should stop work), and also when no stream was begun or it has ended.
  // If more than kMaxQueuedBytes are still waiting for the client to read them, the client is
  // treated as gone (connection closed, on_disconnect fires) rather than buffering without bound.
  virtual bool write(std::string data) = 0;
  // Finishes the stream (last chunk); idempotent.
  virtual void end() = 0;
  // True once the peer closed or reset the connection, the server dropped it (slow reader, write
  // error) or force-closed it at stop(), all before the response was written out; stays false
  // for a response that was written out completely.
  virtual bool client_gone() const = 0;
  // Called once, on an io thread, when the connection goes away (as client_gone()) before the whole
  // response was handed to the kernel; never after that. Registering again replaces the callback.
  // If the client is already gone, the callback runs at once on the calling thread. It must be
  // short and must not block; it may call this writer (which then reports the client gone).
  virtual void on_disconnect(std::function<void()> callback) = 0;
  // The connection's io executor (a strand): asynchronous work started on it (a proxied upstream
  // exchange) runs on the io threads without a hand-off to another thread, and its handlers
  // never run concurrently with this connection's on_disconnect callback. Empty (no target)
  // once the connection or the server is gone. Copies must not outlive the Server.
  virtual boost::asio::any_io_executor io_executor() const = 0;
  virtual ~ResponseWriter() = default;

  static constexpr size_t kMaxQueuedBytes = 4 << 20;
};

// Runs on an io thread; must not block (see above).
using Handler = std::function<void(Request request, std::shared_ptr<ResponseWriter> writer)>;

struct ServerOptions {
  std::string host = "127.0.0.1";      // an IP address or a name that resolves ("localhost", "::")
  uint16_t port = 0;                   // 0: any free port (see Server::port())
  size_t max_body_bytes = 8 << 20;     // larger: 413 with a JSON error body, connection closed
  size_t max_header_bytes = 64 << 10;  // request line + headers; larger: 431, connection closed
  // The whole request (from its first byte) must arrive within this, else the connection is
  // closed without a response (slowloris).
  std::chrono::milliseconds header_timeout{30000};
  // A connection without a request in progress (new, or kept alive after a response) is closed
  // after this. It also bounds how long one write of a response may wait for a client that does
  // not read.
  std::chrono::milliseconds idle_timeout{120000};
  // After a response on a connection that closes (Connection: close, errors, stop), unread
  // request bytes are drained for at most this long so the client reads the response rather
  // than a reset.
  std::chrono::milliseconds close_linger{2000};
  // Beyond this, new connections get a 503 and are closed. Server::create raises the process's
  // soft RLIMIT_NOFILE towards its hard limit when it is below max_connections + 128.
  size_t max_connections = 10000;
  int io_threads = 1;
  // PEM files; both or neither. When set, every connection speaks TLS (1.2 or later) and serves
  // the same HTTP over it; a plain-HTTP client is closed at the failed handshake. The certificate
  // file may hold the chain (leaf first).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class Server {
 public:
  // Binds and listens (serving starts with run()). Fails with a one-line message naming the
  // address when the port is taken, the host does not resolve or options are invalid, or naming
  // the file when the TLS certificate or key cannot be loaded or do not match.
  static Result<std::unique_ptr<Server>> create(const ServerOptions& options, Handler handler);

  ~Server();  // stop(0), waits for run() to return
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  // Serves on io_threads threads (the calling one included) until a stop() completes; callable
  // from any thread, blocks. Returns at once if the server was already stopped.
  void run();
  // Graceful, non-blocking: stops accepting now and closes idle connections; responses in
  // flight may finish until `deadline` from now, then their connections are closed (writers
  // report client_gone(), on_disconnect fires). run() returns once every connection is closed.
  // Safe from any thread, from a handler, and repeatedly (an earlier deadline wins).
  void stop(std::chrono::milliseconds deadline);
  size_t open_connections() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<Server>> create_or_throw(const ServerOptions& options, Handler handler);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gs::http
