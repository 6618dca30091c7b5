#include "http/connection.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <shared_mutex>

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "http/api_error.h"
#include "http/response.h"

namespace gs::http {

namespace {

using boost::system::error_code;

constexpr size_t kReadChunk = 16 << 10;
// One connection reads at most this much per wake-up, so a fast uploader cannot
// starve the other connections of its io thread.
constexpr size_t kReadPerWakeup = 256 << 10;
// While a response is pending the connection keeps reading (to see the peer
// close) and buffers a pipelined next request up to this much; beyond it,
// reading pauses until the response is written (and disconnects go unseen).
constexpr size_t kPipelineCap = 256 << 10;
constexpr size_t kMaxGather = 64;

// Drops the first n bytes of a gather list (the part a write already sent).
void skip_bytes(std::vector<asio::const_buffer>& buffers, size_t n) {
  size_t done = 0;
  while (done < buffers.size() && n >= buffers[done].size()) n -= buffers[done++].size();
  buffers.erase(buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(done));
  if (!buffers.empty()) buffers.front() += n;
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

// The response object handed to the handler. Every call takes the exchange's
// mutex, so posts reach the strand in call order (a strand keeps them in order
// even with one io thread, where Asio queues the io thread's own posts apart
// from other threads' until its handler returns).
class WriterImpl final : public ResponseWriter {
 public:
  WriterImpl(std::shared_ptr<Exchange> exchange, std::weak_ptr<Connection> connection,
             std::shared_ptr<Lifeline> lifeline)
      : exchange_(std::move(exchange)), connection_(std::move(connection)), lifeline_(std::move(lifeline)) {}

  ~WriterImpl() override {
    std::lock_guard lock(exchange_->mutex);
    if (exchange_->phase == Exchange::Phase::kPending) {
      exchange_->phase = Exchange::Phase::kDone;
      ResponseStart start{
          .status = 500,
          .content_type = "application/json",
          .body = error_body(
              {.status = 500, .message = "the request handler did not respond", .type = "server_error"})};
      post([start = std::move(start)](Connection& c, const std::shared_ptr<Exchange>& e) mutable {
        c.start_response(e, std::move(start));
      });
    } else if (exchange_->phase == Exchange::Phase::kStreaming) {
      exchange_->phase = Exchange::Phase::kDone;
      post([](Connection& c, const std::shared_ptr<Exchange>& e) { c.end_stream(e); });
    }
  }

  void send(int status, std::string_view content_type, std::string body, Headers extra_headers) override {
    start(ResponseStart{.status = status,
                        .content_type = std::string(content_type),
                        .headers = std::move(extra_headers),
                        .body = std::move(body)});
  }

  void begin_stream(int status, std::string_view content_type, Headers extra_headers) override {
    start(ResponseStart{.status = status,
                        .content_type = std::string(content_type),
                        .headers = std::move(extra_headers),
                        .stream = true});
  }

  bool write(std::string data) override {
    if (client_gone()) return false;
    std::lock_guard lock(exchange_->mutex);
    if (exchange_->phase != Exchange::Phase::kStreaming) return false;
    if (data.empty()) return true;  // an empty chunk would end the stream
    const size_t n = data.size();
    const size_t queued = exchange_->queued.load();
    if (queued > 0 && queued + n > kMaxQueuedBytes) {
      // The client reads slower than we produce: drop it rather than buffer without bound.
      exchange_->dropped = true;
      post([](Connection& c, const std::shared_ptr<Exchange>& e) { c.drop(e); });
      return false;
    }
    exchange_->queued += n;
    const bool posted =
        post([data = std::move(data)](Connection& c, const std::shared_ptr<Exchange>& e) mutable {
          c.write_chunk(e, std::move(data));
        });
    if (!posted) exchange_->gone = true;
    return posted;
  }

  void end() override {
    std::lock_guard lock(exchange_->mutex);
    if (exchange_->phase != Exchange::Phase::kStreaming) return;
    exchange_->phase = Exchange::Phase::kDone;
    post([](Connection& c, const std::shared_ptr<Exchange>& e) { c.end_stream(e); });
  }

  bool client_gone() const override { return exchange_->gone || exchange_->dropped; }

  // Looked up each time rather than kept: a writer may outlive the Server, and a strand
  // copy destroyed after its io_context would touch the freed strand service.
  asio::any_io_executor io_executor() const override {
    std::shared_lock lock(lifeline_->mutex);
    if (!lifeline_->alive) return {};
    std::shared_ptr<Connection> connection = connection_.lock();
    if (!connection) return {};
    return connection->executor();
  }

  void on_disconnect(std::function<void()> callback) override {
    {
      std::lock_guard lock(exchange_->mutex);
      if (!exchange_->disconnected) {
        if (!exchange_->finished) exchange_->on_disconnect = std::move(callback);  // else it would never fire
        return;
      }
    }
    if (callback) callback();
  }

 private:
  // The response's head is the exchange's first operation, so nothing of it can be queued
  // yet: called on the connection's own strand (a proxy coroutine resumed by the upstream's
  // answer), it runs at once instead of being posted, which would cost the io thread another
  // poll of epoll before it ran. Whatever another thread posts meanwhile waits for the strand.
  void start(ResponseStart start) {
    std::shared_ptr<Connection> here;
    {
      std::lock_guard lock(exchange_->mutex);
      if (exchange_->phase != Exchange::Phase::kPending) return;
      exchange_->phase = start.stream ? Exchange::Phase::kStreaming : Exchange::Phase::kDone;
      here = connection_running_here();
      if (!here) {
        post([start = std::move(start)](Connection& c, const std::shared_ptr<Exchange>& e) mutable {
          c.start_response(e, std::move(start));
        });
        return;
      }
    }
    here->start_response(exchange_, std::move(start));  // without the lock: it may finish the exchange
  }

  std::shared_ptr<Connection> connection_running_here() const {
    std::shared_lock lock(lifeline_->mutex);
    if (!lifeline_->alive) return nullptr;
    std::shared_ptr<Connection> connection = connection_.lock();
    return connection && connection->may_respond_inline() ? connection : nullptr;
  }

  // Runs fn(connection, exchange) on the connection's strand; false when the connection or the
  // server is gone. The exchange's mutex is held by the caller.
  template <typename Fn>
  bool post(Fn fn) {
    try {
      std::shared_lock lock(lifeline_->mutex);
      if (!lifeline_->alive) return false;
      std::shared_ptr<Connection> connection = connection_.lock();
      if (!connection) return false;
      auto executor = connection->executor();
      asio::post(executor, [connection = std::move(connection), exchange = exchange_,
                            fn = std::move(fn)]() mutable { fn(*connection, exchange); });
      return true;
    } catch (const std::exception&) {  // allocation failure: report the client gone
      return false;
    }
  }

  std::shared_ptr<Exchange> exchange_;
  std::weak_ptr<Connection> connection_;
  std::shared_ptr<Lifeline> lifeline_;
};

}  // namespace

char* ByteQueue::prepare(size_t n) {
  if (begin_ > 0 && (begin_ >= end_ / 2 || end_ + n > capacity_)) {
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ + n > capacity_) {
    const size_t capacity = std::max(end_ + n, 2 * capacity_);
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (end_ > 0) std::memcpy(grown.get(), data_.get(), end_);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  return data_.get() + end_;
}

void ByteQueue::consume(size_t n) {
  begin_ += std::min(n, size());
  if (begin_ == end_) clear();
}

void ByteQueue::clear() {
  // Idle keep-alive connections should not each hold a large buffer.
  if (capacity_ > kReadChunk) {
    data_.reset();
    capacity_ = 0;
  }
  begin_ = end_ = 0;
}

Connection::Connection(Server::Impl& server, tcp::socket socket)
    : server_(server),
      socket_(std::move(socket)),
      deadline_timer_(socket_.get_executor()),
      parser_(server.options.max_header_bytes, server.options.max_body_bytes) {
  if (server.tls) tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *server.tls);
}

void Connection::start() {
  asio::post(executor(), [self = shared_from_this()] { self->on_start(); });
}

void Connection::on_start() {
  if (state_ == State::kClosed) return;
  error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);  // streamed tokens must not wait for Nagle
  socket_.non_blocking(true, ec);
  if (ec) {
    close();
    return;
  }
  const tcp::endpoint remote = socket_.remote_endpoint(ec);
  if (!ec) remote_ = format_endpoint(remote);
  if (!tls_) {
    process_input();
    return;
  }
  // The handshake counts as the start of the first request: a client that never finishes it
  // (or speaks plain HTTP) is closed within header_timeout, or at once on a handshake error.
  arm_read_timer(server_.options.header_timeout);
  tls_->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](error_code hs_ec) {
    if (self->state_ == State::kClosed) return;
    if (hs_ec) {
      self->close();
      return;
    }
    self->cancel_read_timer();
    self->process_input();
  });
}

void Connection::process_input() {
  if (state_ != State::kReading) return;
  if (in_.empty() && !request_started_) {
    if (stopping_) {
      close();
      return;
    }
    arm_read_timer(server_.options.idle_timeout);
    wait_readable();
    return;
  }
  if (!request_started_) {
    request_started_ = true;
    arm_read_timer(server_.options.header_timeout);
  }
  RequestParser::Outcome outcome = parser_.parse(in_.view());
  in_.consume(outcome.consumed);
  switch (outcome.kind) {
    case RequestParser::Outcome::Kind::kNeedMore:
      if (parser_.take_expect_continue()) {
        queue("HTTP/1.1 100 Continue\r\n\r\n", 0);
        flush();
      }
      wait_readable();
      return;
    case RequestParser::Outcome::Kind::kError:
      respond_error(outcome.error_status, outcome.error_message);
      return;
    case RequestParser::Outcome::Kind::kRequest:
      request_started_ = false;
      dispatch(std::move(outcome));
      return;
  }
}

void Connection::wait_readable() {
  if (read_waiting_ || state_ == State::kClosed) return;
  if (state_ == State::kResponding && in_.size() >= kPipelineCap) return;  // finish_response resumes
  read_waiting_ = true;
  if (tls_) {
    // TLS records buffer decrypted bytes inside OpenSSL, so socket readiness says nothing: read.
    if (!tls_in_) tls_in_ = std::make_unique<char[]>(kReadChunk);
    tls_->async_read_some(asio::buffer(tls_in_.get(), kReadChunk),
                          [self = shared_from_this()](error_code ec, size_t n) { self->on_tls_read(ec, n); });
    return;
  }
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](error_code ec) { self->on_readable(ec); });
}

void Connection::on_readable(error_code ec) {
  read_waiting_ = false;
  if (state_ == State::kClosed) return;
  size_t total = 0;
  while (!ec && total < kReadPerWakeup) {
    if (state_ == State::kResponding && in_.size() >= kPipelineCap) break;
    char* room = in_.prepare(kReadChunk);
    const size_t n = socket_.read_some(asio::buffer(room, kReadChunk), ec);
    in_.commit(kReadChunk, n);
    total += n;
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      break;
    }
    // A short read drained the socket (as far as we can tell): stop here rather than pay a
    // read that finds nothing. Bytes that came meanwhile are not lost: the next readiness
    // wait re-arms the descriptor (EPOLL_CTL_MOD), which reports data already waiting.
    if (!ec && n < kReadChunk) break;
  }
  after_read(ec);
}

void Connection::on_tls_read(error_code ec, size_t n) {
  read_waiting_ = false;
  if (state_ == State::kClosed) return;
  if (n > 0) {
    char* room = in_.prepare(n);
    std::copy_n(tls_in_.get(), n, room);
    in_.commit(n, n);
  }
  after_read(ec);
}

void Connection::after_read(error_code ec) {
  if (state_ == State::kLingering || discard_input_) in_.clear();
  if (ec) {
    // EOF or reset: between requests that is just the end; while a response is pending the
    // client is gone (close() tells the writer).
    close();
    return;
  }
  if (state_ == State::kReading) {
    process_input();
  } else {
    wait_readable();
  }
}

void Connection::dispatch(RequestParser::Outcome outcome) {
  state_ = State::kResponding;
  cancel_read_timer();
  keep_alive_ = outcome.keep_alive && !stopping_;
  version_ = outcome.request.version;
  head_only_ = outcome.request.method == "HEAD";
  body_allowed_ = true;
  chunked_ = false;
  response_done_ = false;
  exchange_ = std::make_shared<Exchange>();
  std::shared_ptr<ResponseWriter> writer =
      std::make_shared<WriterImpl>(exchange_, weak_from_this(), server_.lifeline);
  outcome.request.remote_address = remote_;
  wait_readable();
  // A response given inside the handler is posted, not written from within this call: a
  // pipelined next request would otherwise be dispatched from inside this one, and so on.
  calling_handler_ = true;
  struct Unset {
    bool& flag;
    ~Unset() { flag = false; }
  } unset{calling_handler_};
  try {
    server_.handler(std::move(outcome.request), writer);
  } catch (const std::exception& e) {
    send_api_error(
        *writer,
        {.status = 500, .message = fmt::format("internal error: {}", e.what()), .type = "server_error"});
  } catch (...) {
    send_api_error(*writer, {.status = 500, .message = "internal error", .type = "server_error"});
  }
}

void Connection::respond_error(int status, const std::string& message) {
  state_ = State::kResponding;
  cancel_read_timer();
  request_started_ = false;
  keep_alive_ = false;
  discard_input_ = true;  // what follows a bad request cannot be framed
  in_.clear();
  queue(error_response(status, message), 0);
  response_done_ = true;
  flush();
  wait_readable();
}

void Connection::start_response(const std::shared_ptr<Exchange>& exchange, ResponseStart start) {
  if (exchange != exchange_ || state_ != State::kResponding || response_done_) return;
  int status = start.status;
  if (status < 200 || status > 999) status = 500;  // interim or invalid codes cannot end a response
  if (sanitize_headers(start.headers)) keep_alive_ = false;
  body_allowed_ = status_allows_body(status) && !head_only_;
  Head head;
  head.status = status;
  head.content_type = start.content_type;
  head.extra = &start.headers;
  if (start.stream) {
    if (version_ < 11) {
      keep_alive_ = false;  // HTTP/1.0 has no chunked encoding: the body ends at close
    } else if (status_allows_body(status)) {
      head.chunked = true;
      chunked_ = !head_only_;
    }
  } else if (status_allows_body(status)) {
    head.content_length = start.body.size();
  }
  head.connection = !keep_alive_ ? "close" : version_ < 11 ? "keep-alive" : "";
  queue(format_head(head), 0);
  if (!start.stream) {
    if (body_allowed_ && !start.body.empty()) queue(std::move(start.body), 0);
    response_done_ = true;
  }
  flush();
}

void Connection::write_chunk(const std::shared_ptr<Exchange>& exchange, std::string data) {
  const size_t n = data.size();
  if (exchange != exchange_ || state_ != State::kResponding || response_done_ || !body_allowed_) {
    exchange->queued -= n;
    return;
  }
  if (chunked_) {
    queue(chunk_prefix(n), 0);
    queue(std::move(data), n);
    queue("\r\n", 0);
  } else {
    queue(std::move(data), n);
  }
  flush();
}

void Connection::end_stream(const std::shared_ptr<Exchange>& exchange) {
  if (exchange != exchange_ || state_ != State::kResponding || response_done_) return;
  if (chunked_) queue("0\r\n\r\n", 0);
  response_done_ = true;
  flush();
}

void Connection::drop(const std::shared_ptr<Exchange>& exchange) {
  if (exchange == exchange_) close();
}

void Connection::queue(std::string bytes, size_t counted) { out_.push_back(Out{std::move(bytes), counted}); }

void Connection::flush() {
  if (writing_ || state_ == State::kClosed) return;
  if (out_.empty()) {
    if (state_ == State::kResponding && response_done_) finish_response();
    return;
  }
  writing_ = true;
  sending_.clear();
  while (!out_.empty() && sending_.size() < kMaxGather) {
    sending_.push_back(std::move(out_.front()));
    out_.pop_front();
  }

  auto done = [self = shared_from_this()](error_code ec, size_t) { self->on_written(ec); };
  if (tls_) {
    arm_write_timer();  // a client that reads nothing for this long is not coming back
    tls_out_.clear();
    for (const Out& out : sending_) tls_out_ += out.bytes;
    asio::async_write(*tls_, asio::buffer(tls_out_), std::move(done));
    return;
  }
  gather_.clear();
  size_t total = 0;
  for (const Out& out : sending_) {
    gather_.emplace_back(out.bytes.data(), out.bytes.size());
    total += out.bytes.size();
  }
  // What fits the socket's send buffer (nearly every answer) is written now, without an
  // asynchronous write: Asio posts each completion, and every post costs the io thread
  // another poll of epoll. The socket is non-blocking, so this never waits.
  error_code ec;
  const size_t sent = socket_.non_blocking() ? socket_.write_some(gather_, ec) : 0;
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  if (ec || sent == total) {
    on_written(ec);
    return;
  }
  skip_bytes(gather_, sent);
  arm_write_timer();  // a client that reads nothing for this long is not coming back
  asio::async_write(socket_, gather_, std::move(done));
}

void Connection::on_written(error_code ec) {
  writing_ = false;
  cancel_write_timer();
  if (state_ == State::kClosed) return;
  if (ec) {
    close();
    return;
  }
  if (exchange_) {
    for (const Out& out : sending_) exchange_->queued -= out.counted;
  }
  sending_.clear();
  // As with in_: an idle keep-alive connection should not keep a large response's buffer.
  if (tls_out_.capacity() > 4 * kReadChunk) std::string().swap(tls_out_);
  flush();
}

void Connection::finish_response() {
  if (exchange_) {
    std::function<void()> callback;
    {
      std::lock_guard lock(exchange_->mutex);
      exchange_->finished = true;
      callback = std::move(exchange_->on_disconnect);  // may hold the writer: release it here
      exchange_->on_disconnect = nullptr;
    }
    exchange_.reset();
  }
  response_done_ = false;
  if (!keep_alive_ || stopping_) {
    linger_close();
    return;
  }
  state_ = State::kReading;
  process_input();
}

void Connection::linger_close() {
  // Closing with unread request bytes would reset the connection, and the client could lose
  // the response; so stop sending, then drain until the client closes or close_linger passes.
  // Over TLS the FIN comes without a close_notify: sending one needs SSL_shutdown, whose
  // wait for the peer's reply would race the draining read; the response is framed anyway.
  state_ = State::kLingering;
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    close();
    return;
  }
  in_.clear();
  arm_read_timer(server_.options.close_linger);
  wait_readable();
}

void Connection::stop_gracefully() {
  stopping_ = true;
  if (state_ == State::kReading) {
    close();  // idle, or a request not yet complete
  } else if (state_ == State::kResponding) {
    keep_alive_ = false;
  }
}

void Connection::close() {
  if (state_ == State::kClosed) return;
  auto self = shared_from_this();  // the server's reference goes in remove()
  state_ = State::kClosed;
  cancel_read_timer();
  cancel_write_timer();
  ++deadline_timer_gen_;
  deadline_timer_.cancel();  // its wait holds this connection
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (exchange_) {
    mark_gone(*exchange_);
    exchange_.reset();
  }
  out_.clear();
  in_.clear();
  server_.remove(this);
}

bool Connection::may_respond_inline() {
  // calling_handler_ is read only once this thread is known to be the strand's.
  const auto* strand = socket_.get_executor().target<asio::strand<asio::io_context::executor_type>>();
  return strand && strand->running_in_this_thread() && !calling_handler_;
}

void Connection::mark_gone(Exchange& exchange) {
  std::function<void()> callback;
  {
    std::lock_guard lock(exchange.mutex);
    if (exchange.gone) return;
    exchange.gone = true;
    exchange.disconnected = true;
    callback = std::move(exchange.on_disconnect);
    exchange.on_disconnect = nullptr;
  }
  if (!callback) return;
  try {
    callback();
  } catch (...) {  // a throwing callback must not take the io thread down
  }
}

void Connection::arm_read_timer(std::chrono::milliseconds after) {
  // Idle keep-alive, a request that takes too long to arrive, or the end of lingering.
  read_deadline_ = Clock::now() + after;
  watch_deadlines();
}

void Connection::cancel_read_timer() { read_deadline_ = kNever; }

void Connection::arm_write_timer() {
  write_deadline_ = Clock::now() + server_.options.idle_timeout;
  watch_deadlines();
}

void Connection::cancel_write_timer() { write_deadline_ = kNever; }

void Connection::watch_deadlines() {
  const Clock::time_point due = std::min(read_deadline_, write_deadline_);
  if (due == kNever || state_ == State::kClosed) return;
  if (deadline_timer_armed_ && deadline_timer_.expiry() <= due) return;
  deadline_timer_armed_ = true;
  deadline_timer_.expires_at(due);
  deadline_timer_.async_wait([self = shared_from_this(), generation = ++deadline_timer_gen_](error_code ec) {
    self->on_deadline_timer(ec, generation);
  });
}

void Connection::on_deadline_timer(error_code ec, uint64_t generation) {
  if (ec || generation != deadline_timer_gen_) return;  // re-armed or cancelled
  deadline_timer_armed_ = false;
  if (state_ == State::kClosed) return;
  if (Clock::now() >= std::min(read_deadline_, write_deadline_)) {
    close();
    return;
  }
  watch_deadlines();
}

}  // namespace gs::http
