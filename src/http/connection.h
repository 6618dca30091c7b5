// One client connection. Everything here runs on the connection's strand:
// reading and parsing requests, calling the handler, writing what the
// response's writer queued (writers post onto the strand from any thread).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/stream.hpp>

#include "http/request_parser.h"
#include "http/server_internal.h"

namespace gs::http {

// What a connection and the writer of its current response share.
struct Exchange {
  enum class Phase { kPending, kStreaming, kDone };  // kDone: send() or end() was called

  std::mutex mutex;  // guards the plain members; orders the writer's posts
  Phase phase = Phase::kPending;
  std::function<void()> on_disconnect;
  bool finished = false;             // every byte of the response went to the kernel
  bool disconnected = false;         // the connection closed before that: callbacks fire
  std::atomic<bool> gone{false};     // set with disconnected, read without the lock
  std::atomic<bool> dropped{false};  // write() found too much queued; closing
  std::atomic<size_t> queued{0};     // bytes of write() data not yet taken by the kernel
};

struct ResponseStart {
  int status = 200;
  std::string content_type{};
  Headers headers{};
  std::string body{};
  bool stream = false;
};

// Received bytes not yet parsed; consuming a prefix is O(1).
class ByteQueue {
 public:
  std::string_view view() const { return std::string_view(data_.get() + begin_, end_ - begin_); }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return size() == 0; }
  char* prepare(size_t n);  // room for n more bytes at the end, not zeroed (a read fills it)
  void commit(size_t /*prepared*/, size_t used) { end_ += used; }
  void consume(size_t n);
  void clear();

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // [begin_, end_) is unread
  size_t end_ = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl& server, tcp::socket socket);

  void start();
  // Server stop: close now unless a response is in flight; that one closes once written.
  void stop_gracefully();
  void close();

  // Posted by the writer of `exchange`; ignored once that exchange is over.
  void start_response(const std::shared_ptr<Exchange>& exchange, ResponseStart start);
  void write_chunk(const std::shared_ptr<Exchange>& exchange, std::string data);
  void end_stream(const std::shared_ptr<Exchange>& exchange);
  void drop(const std::shared_ptr<Exchange>& exchange);

  tcp::socket::executor_type executor() { return socket_.get_executor(); }
  // Called on this connection's strand, outside its handler call: a writer may then act at once.
  bool may_respond_inline();

 private:
  enum class State { kReading, kResponding, kLingering, kClosed };

  void on_start();
  void process_input();
  void wait_readable();
  void on_readable(boost::system::error_code ec);
  void on_tls_read(boost::system::error_code ec, size_t n);
  void after_read(boost::system::error_code ec);
  void dispatch(RequestParser::Outcome outcome);
  void respond_error(int status, const std::string& message);
  void queue(std::string bytes, size_t counted);
  void flush();
  void on_written(boost::system::error_code ec);
  void finish_response();
  void linger_close();
  void arm_read_timer(std::chrono::milliseconds after);
  void cancel_read_timer();
  void arm_write_timer();
  void cancel_write_timer();
  void watch_deadlines();
  void on_deadline_timer(boost::system::error_code ec, uint64_t generation);
  static void mark_gone(Exchange& exchange);

  Server::Impl& server_;
  tcp::socket socket_;
  // Only for a TLS listener; plain connections keep the readiness-based path below unchanged.
  // Decrypted bytes land in tls_in_ (not in in_, which may be reallocated while a read is
  // pending) and are appended to in_ when the read completes.
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::unique_ptr<char[]> tls_in_;
  std::string tls_out_;  // the gathered buffers as one TLS write (one record, not one per piece)
  // Deadlines are times, not timer waits: setting or clearing one is a store, and the one
  // timer is re-armed only when a deadline comes before its expiry (a keep-alive connection
  // re-arms it about once per idle_timeout, not several times per request). When it fires
  // early it waits again for whichever deadline is left; past one, the connection closes.
  using Clock = asio::steady_timer::clock_type;
  static constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point read_deadline_ = kNever;   // idle, whole-request and linger deadlines
  Clock::time_point write_deadline_ = kNever;  // one write's progress
  asio::steady_timer deadline_timer_;
  bool deadline_timer_armed_ = false;
  uint64_t deadline_timer_gen_ = 0;  // a wait whose generation is stale was re-armed
  State state_ = State::kReading;
  std::string remote_;

  RequestParser parser_;
  ByteQueue in_;
  bool request_started_ = false;
  bool read_waiting_ = false;
  bool discard_input_ = false;
  bool stopping_ = false;
  bool calling_handler_ = false;

  // The response in flight.
  std::shared_ptr<Exchange> exchange_;
  bool keep_alive_ = false;
  bool head_only_ = false;
  int version_ = 11;
  bool body_allowed_ = true;
  bool chunked_ = false;
  bool response_done_ = false;  // its last bytes are queued

  struct Out {
    std::string bytes;
    size_t counted = 0;  // bytes that count against Exchange::queued
  };
  std::deque<Out> out_;
  std::vector<Out> sending_;
  std::vector<asio::const_buffer> gather_;  // sending_'s bytes as one write's buffers
  bool writing_ = false;
};

}  // namespace gs::http
