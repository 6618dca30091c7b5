// The HTTP server against real sockets on 127.0.0.1. Timeouts are configured
// short and waited for generously; nothing here asserts how long anything took.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
// As in http/request_parser.h: a GCC 12 false positive inside Beast's parser under ASan.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <boost/json.hpp>

#include "http/server.h"

namespace gs::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;
using Response = bhttp::response<bhttp::string_body>;

// Polls until `condition` holds; generous so loaded machines do not fail.
bool wait_until(const std::function<bool()>& condition, std::chrono::seconds limit = 30s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// A Server running on its own thread; stopped and joined at scope exit.
class Running {
 public:
  Running(ServerOptions options, Handler handler) {
    auto created = Server::create(options, std::move(handler));
    EXPECT_TRUE(created.ok()) << created.error();
    if (!created.ok()) return;
    server = std::move(created).value();
    thread = std::thread([this] {
      server->run();
      returned = true;
    });
  }
  ~Running() {
    if (server) server->stop(0ms);
    if (thread.joinable()) thread.join();
  }
  uint16_t port() const { return server->port(); }

  std::unique_ptr<Server> server;
  std::thread thread;
  std::atomic<bool> returned{false};
};

// A blocking-style client whose every operation gives up after a limit, so a
// server bug fails the test instead of hanging it.
// With `tls`, it speaks TLS (handshake in the constructor; connected() says whether it worked).
class Client {
 public:
  explicit Client(uint16_t port, asio::ssl::context* tls = nullptr) {
    error_code ec;
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    connected_ = !ec;
    if (connected_ && tls) {
      tls_.emplace(socket_, *tls);
      connected_ = !run([&](auto done) {
        tls_->async_handshake(asio::ssl::stream_base::client, [done](error_code e) { done(e, 0); });
      });
    }
  }
  bool connected() const { return connected_; }

  bool send(std::string_view bytes) {
    return !run([&](auto done) { io([&](auto& s) { asio::async_write(s, asio::buffer(bytes), done); }); });
  }
  bool request(std::string_view method, std::string_view target, std::string_view body = "",
               std::string_view extra_headers = "") {
    std::string wire = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" +
                       std::string(extra_headers);
    if (!body.empty() || method == "POST") wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return send(wire + "\r\n" + std::string(body));
  }
  // One whole response (a HEAD response has no body to wait for).
  std::optional<Response> read_response(bool head = false) {
    parser_.emplace();
    parser_->body_limit(boost::none);
    parser_->skip(head);
    if (run([&](auto done) { io([&](auto& s) { bhttp::async_read(s, buffer_, *parser_, done); }); }))
      return std::nullopt;
    return parser_->release();
  }
  // The head of a response, then body bytes until `predicate(body so far)` holds.
  bool read_head() {
    parser_.emplace();
    parser_->body_limit(boost::none);
    return !run(
        [&](auto done) { io([&](auto& s) { bhttp::async_read_header(s, buffer_, *parser_, done); }); });
  }
  const Response& partial() { return parser_->get(); }
  bool read_body_until(const std::function<bool(const std::string&)>& predicate) {
    while (!predicate(parser_->get().body())) {
      if (parser_->is_done()) return false;
      if (run([&](auto done) { io([&](auto& s) { bhttp::async_read_some(s, buffer_, *parser_, done); }); }))
        return false;
    }
    return true;
  }
  std::optional<Response> finish_response() {
    if (!parser_->is_done() &&
        run([&](auto done) { io([&](auto& s) { bhttp::async_read(s, buffer_, *parser_, done); }); })) {
      return std::nullopt;
    }
    return parser_->release();
  }
  // True once the server closed the connection (EOF or reset) within `limit`.
  bool closed_by_peer(std::chrono::milliseconds limit = 30s) {
    char scratch[4096];
    const auto end = std::chrono::steady_clock::now() + limit;
    buffer_.clear();
    while (std::chrono::steady_clock::now() < end) {
      error_code ec =
          run([&](auto done) { io([&](auto& s) { s.async_read_some(asio::buffer(scratch), done); }); },
              std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()));
      if (ec == asio::error::timed_out) return false;
      if (ec) return true;
    }
    return false;
  }
  void close() {
    error_code ec;
    socket_.close(ec);
  }

 private:
  template <typename Fn>
  void io(Fn fn) {
    if (tls_) {
      fn(*tls_);
    } else {
      fn(socket_);
    }
  }

  // Runs one async operation for at most `limit`; its error, or timed_out.
  template <typename Start>
  error_code run(Start start, std::chrono::milliseconds limit = 30s) {
    bool finished = false;
    error_code result;
    start([&](error_code ec, size_t) {
      finished = true;
      result = ec;
    });
    ioc_.restart();
    ioc_.run_for(limit);
    if (finished) return result;
    error_code ignored;
    socket_.cancel(ignored);
    ioc_.restart();
    ioc_.run();
    return asio::error::timed_out;
  }

  asio::io_context ioc_;
  tcp::socket socket_{ioc_};
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  bool connected_ = false;
};

// Every field a handler sees, as JSON.
Handler echo_handler(std::atomic<int>* calls = nullptr) {
  return [calls](Request request, std::shared_ptr<ResponseWriter> writer) {
    if (calls) ++*calls;
    boost::json::object out;
    out["method"] = request.method;
    out["target"] = request.target;
    out["path"] = request.path;
    boost::json::object query;
    for (const auto& [k, v] : request.query) query[k] = v;
    out["query"] = std::move(query);
    out["body"] = request.body;
    out["x_test"] = request.header("x-test");
    out["remote"] = request.remote_address;
    writer->send(200, "application/json", boost::json::serialize(out), {{"X-Echo", "1"}});
  };
}

// Checks an OpenAI-style error body.
void expect_error_body(const Response& response, int status) {
  EXPECT_EQ(response.result_int(), status);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  error_code ec;
  const auto json = boost::json::parse(response.body(), ec);
  ASSERT_FALSE(ec) << response.body();
  const auto& error = json.at("error").as_object();
  EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
  EXPECT_FALSE(error.at("message").as_string().empty());
  EXPECT_TRUE(error.at("param").is_null());
  EXPECT_TRUE(error.at("code").is_null());
}

TEST(HttpServer, GetAndPostEcho) {
  Running running({}, echo_handler());
  Client client(running.port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.request("GET", "/echo/a%20b?x=1&y=hello+world", "", "X-Test: yes\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_EQ((*response)["X-Echo"], "1");
  const auto json = boost::json::parse(response->body());
  EXPECT_EQ(json.at("method").as_string(), "GET");
  EXPECT_EQ(json.at("target").as_string(), "/echo/a%20b?x=1&y=hello+world");
  EXPECT_EQ(json.at("path").as_string(), "/echo/a b");
  EXPECT_EQ(json.at("query").at("y").as_string(), "hello world");
  EXPECT_EQ(json.at("x_test").as_string(), "yes");
  EXPECT_EQ(json.at("remote").as_string().subview().rfind("127.0.0.1:", 0), 0u);

  ASSERT_TRUE(client.request("POST", "/v1/chat/completions", R"({"model":"m"})"));
  response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(boost::json::parse(response->body()).at("body").as_string(), R"({"model":"m"})");
}

TEST(HttpServer, KeepAliveReusesOneConnection) {
  std::mutex mutex;
  std::set<std::string> remotes;
  Running running({}, [&](Request request, std::shared_ptr<ResponseWriter> writer) {
    std::lock_guard lock(mutex);
    remotes.insert(request.remote_address);
    writer->send(200, "text/plain", request.path);
  });
  Client client(running.port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client.request("GET", "/r" + std::to_string(i)));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body(), "/r" + std::to_string(i));
    EXPECT_TRUE(response->keep_alive());
  }
  EXPECT_EQ(remotes.size(), 1u);
  EXPECT_EQ(running.server->open_connections(), 1u);
}

TEST(HttpServer, PipelinedRequestsAnsweredInOrder) {
  std::vector<std::thread> engines;
  std::mutex mutex;
  Running running({}, [&](Request request, std::shared_ptr<ResponseWriter> writer) {
    // Answer from another thread: the second request must still be answered second.
    std::lock_guard lock(mutex);
    engines.emplace_back(
        [request = std::move(request), writer] { writer->send(200, "text/plain", request.path); });
  });
  Client client(running.port());
  ASSERT_TRUE(client.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = client.read_response();
  auto second = client.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body(), "/1");
  EXPECT_EQ(second->body(), "/2");
  std::lock_guard lock(mutex);
  for (auto& engine : engines) engine.join();
}

TEST(HttpServer, ConnectionCloseAndHttp10) {
  Running running({}, echo_handler());
  {
    Client client(running.port());
    ASSERT_TRUE(client.request("GET", "/", "", "Connection: close\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_FALSE(response->keep_alive());
    EXPECT_TRUE(client.closed_by_peer());
  }
  {
    Client client(running.port());
    ASSERT_TRUE(client.send("GET /old HTTP/1.0\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(boost::json::parse(response->body()).at("path").as_string(), "/old");
    EXPECT_TRUE(client.closed_by_peer());
  }
  {
    Client client(running.port());
    ASSERT_TRUE(client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ((*response)[bhttp::field::connection], "keep-alive");
    ASSERT_TRUE(client.send("GET /b HTTP/1.0\r\n\r\n"));
    response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(boost::json::parse(response->body()).at("path").as_string(), "/b");
  }
}

TEST(HttpServer, StreamsManyChunksFromAnotherThread) {
  std::vector<std::thread> engines;
  std::mutex mutex;
  Running running({}, [&](Request, std::shared_ptr<ResponseWriter> writer) {
    writer->begin_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
    std::lock_guard lock(mutex);
    engines.emplace_back([writer] {
      for (int i = 0; i < 500; ++i) {
        if (!writer->write("data: " + std::to_string(i) + "\n\n")) return;
      }
      writer->end();
      writer->end();  // idempotent
    });
  });
  Client client(running.port());
  std::string expected;
  for (int i = 0; i < 500; ++i) expected += "data: " + std::to_string(i) + "\n\n";
  for (int round = 0; round < 2; ++round) {  // the connection is reusable after a stream
    ASSERT_TRUE(client.request("GET", "/stream"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_TRUE(response->chunked());
    EXPECT_EQ((*response)[bhttp::field::content_type], "text/event-stream");
    EXPECT_EQ((*response)["Cache-Control"], "no-cache");
    EXPECT_EQ(response->body(), expected);
  }
  std::lock_guard lock(mutex);
  for (auto& engine : engines) engine.join();
}

// Answers larger than the socket's send buffer: the part a direct write could
// not send goes out asynchronously, from the right byte on (one body, and a
// stream whose pieces are written faster than the client reads them).
TEST(HttpServer, AnswersBeyondTheSendBufferArriveWhole) {
  auto pattern = [](size_t n, int seed) {
    std::string bytes(n, '\0');
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 4099 + seed) % 26);
    return bytes;
  };
  std::vector<std::thread> engines;
  std::mutex mutex;
  struct JoinAtEnd {  // after the server stops (declared before it), even when an assertion fails
    std::vector<std::thread>& threads;
    std::mutex& mutex;
    ~JoinAtEnd() {
      std::lock_guard lock(mutex);
      for (auto& thread : threads) thread.join();
    }
  } join_at_end{engines, mutex};
  Running running({}, [&](Request request, std::shared_ptr<ResponseWriter> writer) {
    if (request.path == "/body") {
      writer->send(200, "application/octet-stream", pattern(8 << 20, 0));
      return;
    }
    writer->begin_stream(200, "application/octet-stream");
    std::lock_guard lock(mutex);
    engines.emplace_back([writer, pattern] {
      for (int i = 0; i < 64; ++i) {
        if (!writer->write(pattern((64 << 10) + 17 * i, i))) return;
      }
      writer->end();
    });
  });
  Client client(running.port());
  ASSERT_TRUE(client.request("GET", "/body"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_TRUE(response->body() == pattern(8 << 20, 0));

  std::string expected;
  for (int i = 0; i < 64; ++i) expected += pattern((64 << 10) + 17 * i, i);
  ASSERT_TRUE(client.request("GET", "/stream"));
  response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body().size(), expected.size());
  EXPECT_TRUE(response->body() == expected);
}

TEST(HttpServer, StreamToHttp10ClientEndsAtClose) {
  Running running({}, [](Request, std::shared_ptr<ResponseWriter> writer) {
    writer->begin_stream(200, "application/x-ndjson");
    writer->write("{\"a\":1}\n");
    writer->write("{\"b\":2}\n");
    writer->end();
  });
  Client client(running.port());
  ASSERT_TRUE(client.send("GET / HTTP/1.0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_FALSE(response->chunked());
  EXPECT_EQ(response->body(), "{\"a\":1}\n{\"b\":2}\n");
}

TEST(HttpServer, ClientDisconnectMidStream) {
  std::atomic<int> disconnects{0};
  std::atomic<bool> write_failed{false};
  std::shared_ptr<ResponseWriter> held;
  std::thread engine;
  std::mutex mutex;
  Running running({}, [&](Request, std::shared_ptr<ResponseWriter> writer) {
    writer->begin_stream(200, "text/event-stream");
    writer->on_disconnect([&] { ++disconnects; });
    std::lock_guard lock(mutex);
    held = writer;
    engine = std::thread([writer, &write_failed] {
      for (int i = 0; i < 200000; ++i) {
        if (!writer->write("data: token\n\n")) {
          write_failed = true;
          return;
        }
        std::this_thread::sleep_for(1ms);
      }
    });
  });
  Client client(running.port());
  ASSERT_TRUE(client.request("GET", "/stream"));
  ASSERT_TRUE(client.read_head());
  ASSERT_TRUE(client.read_body_until([](const std::string& body) { return body.size() >= 3 * 13; }));
  client.close();
  EXPECT_TRUE(wait_until([&] { return write_failed.load() && disconnects.load() == 1; }));
  {
    std::lock_guard lock(mutex);
    engine.join();
    EXPECT_TRUE(held->client_gone());
    EXPECT_FALSE(held->write("more"));
    std::atomic<int> late{0};
    held->on_disconnect([&] { ++late; });  // already gone: runs at once
    EXPECT_EQ(late.load(), 1);
  }
  EXPECT_EQ(disconnects.load(), 1);
  EXPECT_TRUE(wait_until([&] { return running.server->open_connections() == 0; }));
}

TEST(HttpServer, DisconnectWhileResponsePendingIsSeen) {
  std::atomic<int> disconnects{0};
  std::shared_ptr<ResponseWriter> held;
  std::mutex mutex;
  Running running({}, [&](Request, std::shared_ptr<ResponseWriter> writer) {
    writer->on_disconnect([&] { ++disconnects; });
    std::lock_guard lock(mutex);
    held = writer;  // the "engine" has not answered yet
  });
  Client client(running.port());
  ASSERT_TRUE(client.request("POST", "/v1/completions", "{}"));
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return held != nullptr;
  }));
  client.close();
  EXPECT_TRUE(wait_until([&] { return disconnects.load() == 1; }));
  std::lock_guard lock(mutex);
  EXPECT_TRUE(held->client_gone());
  held->send(200, "text/plain", "too late");  // harmless
}

TEST(HttpServer, SlowReaderIsDroppedInsteadOfBuffered) {
  std::atomic<bool> dropped{false};
  std::atomic<int> disconnects{0};
  std::thread engine;
  std::mutex mutex;
  Running running({}, [&](Request, std::shared_ptr<ResponseWriter> writer) {
    writer->begin_stream(200, "application/octet-stream");
    writer->on_disconnect([&] { ++disconnects; });
    std::lock_guard lock(mutex);
    engine = std::thread([writer, &dropped] {
      const std::string block(256 << 10, 'x');
      for (int i = 0; i < 4096; ++i) {  // up to 1 GiB, far beyond socket buffers
        if (!writer->write(block)) {
          dropped = true;
          return;
        }
      }
    });
  });
  Client client(running.port());
  ASSERT_TRUE(client.request("GET", "/big"));
  // Never reads.
  EXPECT_TRUE(wait_until([&] { return dropped.load() && disconnects.load() == 1; }))
      << dropped.load() << " " << disconnects.load();
  std::lock_guard lock(mutex);
  engine.join();
}

TEST(HttpServer, HandlerDroppingWriterGets500AndThrowingGets500) {
  Running running({}, [](Request request, std::shared_ptr<ResponseWriter>) {
    if (request.path == "/throw") throw std::runtime_error("boom");
  });
  Client client(running.port());
  for (const char* path : {"/drop", "/throw"}) {
    ASSERT_TRUE(client.request("GET", path));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 500) << path;
    EXPECT_EQ(boost::json::parse(response->body()).at("error").at("type").as_string(), "server_error");
  }
}

TEST(HttpServer, HeadResponseHasNoBody) {
  Running running({}, [](Request request, std::shared_ptr<ResponseWriter> writer) {
    writer->send(200, "text/plain", "hello " + request.method);
  });
  Client client(running.port());
  ASSERT_TRUE(client.request("HEAD", "/"));
  auto response = client.read_response(/*head=*/true);
  ASSERT_TRUE(response);
  EXPECT_EQ((*response)[bhttp::field::content_length], "10");
  ASSERT_TRUE(client.request("GET", "/"));  // no stray body bytes before this answer
  response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "hello GET");
}

TEST(HttpServer, ServerOwnsFramingHeaders) {
  Running running({}, [](Request request, std::shared_ptr<ResponseWriter> writer) {
    if (request.path == "/204") return writer->send(204, "", "ignored");
    writer->send(200, "text/plain", "body",
                 {{"Content-Length", "999"}, {"X-Split", "a\r\nInjected: 1"}, {"Connection", "close"}});
  });
  Client client(running.port());
  ASSERT_TRUE(client.request("GET", "/204"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 204);
  EXPECT_EQ(response->count(bhttp::field::content_length), 0u);
  ASSERT_TRUE(client.request("GET", "/close"));
  response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "body");
  EXPECT_EQ((*response)[bhttp::field::content_length], "4");
  EXPECT_EQ(response->count("Injected"), 0u);
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpServer, ExpectContinue) {
  Running running({}, echo_handler());
  Client client(running.port());
  ASSERT_TRUE(
      client.send("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100);
  ASSERT_TRUE(client.send("hello"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(boost::json::parse(response->body()).at("body").as_string(), "hello");
}

TEST(HttpServer, OversizedBodyGets413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  Running running(options, echo_handler(&calls));
  {
    Client client(running.port());
    ASSERT_TRUE(client.request("POST", "/", std::string(5000, 'a')));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    expect_error_body(*response, 413);
    EXPECT_TRUE(client.closed_by_peer());
  }
  {
    Client client(running.port());
    std::string wire = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 10; ++i) wire += "200\r\n" + std::string(512, 'b') + "\r\n";
    ASSERT_TRUE(client.send(wire + "0\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    expect_error_body(*response, 413);
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServer, HugeHeadersGet431) {
  ServerOptions options;
  options.max_header_bytes = 4096;
  Running running(options, echo_handler());
  Client client(running.port());
  ASSERT_TRUE(client.request("GET", "/", "", "X-Big: " + std::string(10000, 'h') + "\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  expect_error_body(*response, 431);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpServer, MalformedRequestsGet400) {
  std::atomic<int> calls{0};
  Running running({}, echo_handler(&calls));
  for (const char* wire :
       {"GARBAGE\r\n\r\n", "GET / HTTP/1.1 extra\r\n\r\n", "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n"}) {
    Client client(running.port());
    ASSERT_TRUE(client.send(wire));
    auto response = client.read_response();
    ASSERT_TRUE(response) << wire;
    expect_error_body(*response, 400);
    EXPECT_TRUE(client.closed_by_peer());
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServer, SlowlorisClosedAfterHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = 200ms;
  std::atomic<int> calls{0};
  Running running(options, echo_handler(&calls));
  Client client(running.port());
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\n"));
  // Keeps sending a header byte now and then: progress must not extend the deadline.
  bool closed = false;
  for (int i = 0; i < 3000 && !closed; ++i) {
    closed = !client.send("X") || client.closed_by_peer(10ms);
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(calls.load(), 0);
  EXPECT_TRUE(wait_until([&] { return running.server->open_connections() == 0; }));
}

TEST(HttpServer, IdleKeepAliveConnectionClosed) {
  ServerOptions options;
  options.idle_timeout = 200ms;
  Running running(options, echo_handler());
  Client client(running.port());
  ASSERT_TRUE(client.request("GET", "/"));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_TRUE(wait_until([&] { return running.server->open_connections() == 0; }));
}

TEST(HttpServer, ThousandIdleConnections) {
  Running running({}, echo_handler());
  asio::io_context ioc;
  std::vector<tcp::socket> idle;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), running.port());
  for (int i = 0; i < 1000; ++i) {
    idle.emplace_back(ioc);
    error_code ec;
    idle.back().connect(endpoint, ec);
    ASSERT_FALSE(ec) << i << ": " << ec.message();
  }
  EXPECT_TRUE(wait_until([&] { return running.server->open_connections() == 1000; }))
      << running.server->open_connections();
  Client client(running.port());
  ASSERT_TRUE(client.request("GET", "/still-serving"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
  client.close();
  for (auto& socket : idle) socket.close();
  EXPECT_TRUE(wait_until([&] { return running.server->open_connections() == 0; }))
      << running.server->open_connections();
}

TEST(HttpServer, ConnectionsBeyondMaximumGet503) {
  ServerOptions options;
  options.max_connections = 2;
  Running running(options, echo_handler());
  Client a(running.port()), b(running.port());
  ASSERT_TRUE(wait_until([&] { return running.server->open_connections() == 2; }));
  Client c(running.port());
  auto response = c.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 503);
  EXPECT_EQ(running.server->open_connections(), 2u);
}

TEST(HttpServer, StopClosesInFlightStreamAtDeadline) {
  std::atomic<int> disconnects{0};
  std::shared_ptr<ResponseWriter> held;
  std::mutex mutex;
  auto running =
      std::make_unique<Running>(ServerOptions{}, [&](Request, std::shared_ptr<ResponseWriter> writer) {
        writer->begin_stream(200, "text/event-stream");
        writer->on_disconnect([&] { ++disconnects; });
        writer->write("data: first\n\n");
        std::lock_guard lock(mutex);
        held = writer;  // never ends on its own
      });
  Client idle(running->port());
  Client client(running->port());
  ASSERT_TRUE(client.request("GET", "/stream"));
  ASSERT_TRUE(client.read_head());
  ASSERT_TRUE(client.read_body_until([](const std::string& body) { return body == "data: first\n\n"; }));

  running->server->stop(200ms);
  EXPECT_TRUE(idle.closed_by_peer());  // idle connections go at once
  EXPECT_TRUE(wait_until([&] { return running->returned.load(); }));
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(disconnects.load(), 1);
  EXPECT_EQ(running->server->open_connections(), 0u);
  running.reset();  // the server goes first; the writer must stay safe to use
  std::lock_guard lock(mutex);
  EXPECT_TRUE(held->client_gone());
  EXPECT_FALSE(held->write("late"));
  held->end();
  held.reset();
}

TEST(HttpServer, StopLetsInFlightStreamFinish) {
  std::shared_ptr<ResponseWriter> held;
  std::mutex mutex;
  ServerOptions options;
  options.close_linger = 200ms;  // the client below does not close first
  Running running(options, [&](Request, std::shared_ptr<ResponseWriter> writer) {
    writer->begin_stream(200, "text/event-stream");
    writer->write("a");
    std::lock_guard lock(mutex);
    held = writer;
  });
  Client client(running.port());
  ASSERT_TRUE(client.request("GET", "/stream"));
  ASSERT_TRUE(client.read_head());
  ASSERT_TRUE(client.read_body_until([](const std::string& body) { return body == "a"; }));

  running.server->stop(60s);
  Client late(running.port());  // not accepted any more
  EXPECT_TRUE(!late.connected() || late.closed_by_peer());
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(held->write("b"));
    held->end();
  }
  auto response = client.finish_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "ab");
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_TRUE(wait_until([&] { return running.returned.load(); }));
  std::lock_guard lock(mutex);
  EXPECT_FALSE(held->client_gone());  // it finished normally
}

TEST(HttpServer, StopFromHandlerAndBeforeRun) {
  std::unique_ptr<Server> server;
  ServerOptions options;
  options.close_linger = 200ms;
  auto created = Server::create(options, [&](Request, std::shared_ptr<ResponseWriter> writer) {
    writer->send(200, "text/plain", "bye");
    server->stop(5s);
  });
  ASSERT_TRUE(created.ok()) << created.error();
  server = std::move(created).value();
  std::atomic<bool> returned{false};
  std::thread thread([&] {
    server->run();
    returned = true;
  });
  Client client(server->port());
  ASSERT_TRUE(client.request("GET", "/shutdown"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body(), "bye");
  EXPECT_TRUE(wait_until([&] { return returned.load(); }));
  thread.join();
  server->run();  // already stopped: returns at once

  auto never_run = Server::create({}, echo_handler());
  ASSERT_TRUE(never_run.ok());
  (*never_run)->stop(0ms);
}

TEST(HttpServer, PortInUseAndBadHost) {
  Running running({}, echo_handler());
  ServerOptions options;
  options.port = running.port();
  auto second = Server::create(options, echo_handler());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("already in use"), std::string::npos) << second.error();
  EXPECT_NE(second.error().find(std::to_string(running.port())), std::string::npos) << second.error();

  options.port = 0;
  options.host = "no-such-host.invalid";
  auto bad = Server::create(options, echo_handler());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("no-such-host.invalid"), std::string::npos) << bad.error();

  options.host = "127.0.0.1";
  options.io_threads = 0;
  EXPECT_FALSE(Server::create(options, echo_handler()).ok());
}

TEST(HttpServer, SeveralIoThreads) {
  ServerOptions options;
  options.io_threads = 4;
  Running running(options, echo_handler());
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      Client client(running.port());
      for (int i = 0; i < 20; ++i) {
        if (!client.request("POST", "/p", std::to_string(i))) return;
        auto response = client.read_response();
        if (!response || boost::json::parse(response->body()).at("body").as_string() != std::to_string(i))
          return;
      }
      ++ok;
    });
  }
  for (auto& thread : clients) thread.join();
  EXPECT_EQ(ok.load(), 8);
}

// A self-signed certificate for 127.0.0.1 (and a second, unrelated key) in a fresh directory,
// made by the openssl tool as an operator would.
class TlsFiles {
 public:
  TlsFiles() {
    dir_ = std::filesystem::temp_directory_path() /
           ("gs_tls_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    ok_ = make("key.pem", "cert.pem") && make("other_key.pem", "other_cert.pem");
  }
  ~TlsFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string path(const char* name) const { return (dir_ / name).string(); }
  ServerOptions options() const {
    ServerOptions options;
    options.tls_cert_file = path("cert.pem");
    options.tls_key_file = path("key.pem");
    return options;
  }
  // Trusts exactly our certificate.
  std::unique_ptr<asio::ssl::context> client_context() const {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    context->load_verify_file(path("cert.pem"));
    context->set_verify_mode(asio::ssl::verify_peer);
    return context;
  }

 private:
  bool make(const char* key, const char* cert) {
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
        "-days 1 -keyout '" +
        path(key) + "' -out '" + path(cert) + "' >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
  }
  static inline std::atomic<int> counter_{0};
  std::filesystem::path dir_;
  bool ok_ = false;
};

TEST(HttpServer, TlsKeepAliveAndStream) {
  TlsFiles files;
  ASSERT_TRUE(files.ok());
  Running running(files.options(), [](Request request, std::shared_ptr<ResponseWriter> writer) {
    if (request.path != "/stream") return echo_handler()(std::move(request), std::move(writer));
    writer->begin_stream(200, "text/event-stream");
    for (int i = 0; i < 200; ++i) writer->write("data: " + std::to_string(i) + "\n\n");
    writer->end();
  });
  auto context = files.client_context();
  Client client(running.port(), context.get());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {  // one connection throughout: keep-alive over TLS
    ASSERT_TRUE(client.request("POST", "/echo", std::to_string(i)));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 200);
    EXPECT_EQ(boost::json::parse(response->body()).at("body").as_string(), std::to_string(i));
  }
  ASSERT_TRUE(client.request("GET", "/stream"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_TRUE(response->chunked());
  std::string expected;
  for (int i = 0; i < 200; ++i) expected += "data: " + std::to_string(i) + "\n\n";
  EXPECT_EQ(response->body(), expected);
  EXPECT_EQ(running.server->open_connections(), 1u);
  ASSERT_TRUE(client.request("GET", "/x", "", "Connection: close\r\n"));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpServer, TlsDisconnectMidStreamIsSeen) {
  TlsFiles files;
  ASSERT_TRUE(files.ok());
  std::atomic<bool> disconnected{false};
  std::shared_ptr<ResponseWriter> held;
  std::mutex mutex;
  Running running(files.options(), [&](Request, std::shared_ptr<ResponseWriter> writer) {
    writer->begin_stream(200, "text/event-stream");
    writer->write("data: first\n\n");
    writer->on_disconnect([&] { disconnected = true; });
    std::lock_guard lock(mutex);
    held = writer;
  });
  auto context = files.client_context();
  {
    Client client(running.port(), context.get());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.request("GET", "/s"));
    ASSERT_TRUE(client.read_head());
    ASSERT_TRUE(client.read_body_until(
        [](const std::string& body) { return body.find("first") != std::string::npos; }));
  }
  EXPECT_TRUE(wait_until([&] { return disconnected.load(); }));
  std::lock_guard lock(mutex);
  EXPECT_TRUE(held->client_gone());
  EXPECT_FALSE(held->write("data: late\n\n"));
}

TEST(HttpServer, TlsPortClosesPlainAndSilentClients) {
  TlsFiles files;
  ASSERT_TRUE(files.ok());
  ServerOptions options = files.options();
  options.header_timeout = 200ms;
  Running running(options, echo_handler());
  Client plain(running.port());
  ASSERT_TRUE(plain.connected());
  ASSERT_TRUE(plain.request("GET", "/"));
  EXPECT_TRUE(plain.closed_by_peer());  // not a TLS ClientHello: closed at once
  Client silent(running.port());
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.closed_by_peer());  // no handshake within header_timeout
  auto context = files.client_context();
  Client client(running.port(), context.get());  // the server is unharmed
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.request("GET", "/after"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
  EXPECT_TRUE(wait_until([&] { return running.server->open_connections() == 1; }));
}

TEST(HttpServer, TlsBadCertificateOrKeyFailsCreate) {
  TlsFiles files;
  ASSERT_TRUE(files.ok());
  auto fails_with = [](const ServerOptions& options, const std::string& text) {
    auto created = Server::create(options, echo_handler());
    ASSERT_FALSE(created.ok());
    EXPECT_NE(created.error().find(text), std::string::npos) << created.error();
    EXPECT_EQ(created.error().find('\n'), std::string::npos) << created.error();
  };
  ServerOptions options = files.options();
  options.tls_cert_file = files.path("missing.pem");
  fails_with(options, "missing.pem");
  options = files.options();
  options.tls_key_file = files.path("missing_key.pem");
  fails_with(options, "missing_key.pem");
  options = files.options();
  options.tls_key_file = files.path("other_key.pem");
  fails_with(options, "does not match");
  options = files.options();
  options.tls_key_file.clear();
  fails_with(options, "both");
  options = files.options();
  options.tls_cert_file = files.path("key.pem");  // a key where the certificate should be
  fails_with(options, "key.pem");
}

}  // namespace
}  // namespace gs::http
