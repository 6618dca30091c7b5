// Server internals shared by server.cpp and connection.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "http/server.h"

namespace gs::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Connection;

// Writers may outlive the Server; before posting to a connection they check,
// under this lock, that the io_context still exists.
struct Lifeline {
  std::shared_mutex mutex;
  bool alive = true;
};

struct Server::Impl {
  Impl(const ServerOptions& options, Handler handler);

  // Called by a connection (on its strand) when it has closed.
  void remove(Connection* connection);

  void accept();
  void on_accept(boost::system::error_code ec, tcp::socket socket);
  void reject(tcp::socket socket);
  void begin_stop();  // on strand
  void force_close_all();
  void finish_stop();  // on strand

  ServerOptions options;
  Handler handler;
  std::optional<asio::ssl::context> tls;  // set when options name a certificate and key
  // Declared first: destroyed last, after everything holding its sockets and timers.
  asio::io_context ioc;
  asio::strand<asio::io_context::executor_type> strand;  // acceptor and stop logic
  tcp::acceptor acceptor;
  asio::steady_timer accept_backoff;
  asio::steady_timer stop_timer;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::shared_ptr<Lifeline> lifeline = std::make_shared<Lifeline>();
  uint16_t port = 0;
  std::atomic<size_t> open{0};

  std::mutex mutex;  // guards the members below
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
  bool stopping = false;
  bool stop_done = false;  // every connection closed, io_context stopped
  std::chrono::steady_clock::time_point stop_deadline;
  bool running = false;   // inside run()
  bool finished = false;  // run() returned after a stop
  std::condition_variable run_cv;
};

}  // namespace gs::http
