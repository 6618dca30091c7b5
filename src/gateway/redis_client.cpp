#include "gateway/redis_client.h"

#include "gateway/blocking_io.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cstdio>

namespace gs::gateway {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr size_t kMaxReplyBytes = 64u << 20;
constexpr int kMaxDepth = 8;

Result<int64_t> parse_integer(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return Error("redis: bad integer '{}'", text);
  return value;
}

// One reply starting at `pos`; nullopt while incomplete.
Result<std::optional<RespValue>> parse_at(std::string_view bytes, size_t& pos, int depth) {
  if (depth > kMaxDepth) return Error("redis: reply nested too deep");
  const size_t eol = bytes.find("\r\n", pos);
  if (eol == std::string_view::npos) return std::optional<RespValue>();
  const char type = bytes[pos];
  const std::string_view line = bytes.substr(pos + 1, eol - pos - 1);
  size_t next = eol + 2;
  RespValue v;
  switch (type) {
    case '+':
    case '-':
      v.type = type == '+' ? RespValue::Type::kSimple : RespValue::Type::kError;
      v.text = std::string(line);
      break;
    case ':': {
      v.type = RespValue::Type::kInteger;
      GS_ASSIGN_OR_RETURN(v.integer, parse_integer(line));
      break;
    }
    case '$': {
      GS_ASSIGN_OR_RETURN(const int64_t n, parse_integer(line));
      if (n < 0) break;  // null bulk string
      if (static_cast<uint64_t>(n) > kMaxReplyBytes) return Error("redis: reply too large");
      if (bytes.size() < next + static_cast<size_t>(n) + 2) return std::optional<RespValue>();
      v.type = RespValue::Type::kBulk;
      v.text = std::string(bytes.substr(next, static_cast<size_t>(n)));
      next += static_cast<size_t>(n) + 2;
      break;
    }
    case '*': {
      GS_ASSIGN_OR_RETURN(const int64_t n, parse_integer(line));
      if (n < 0) break;  // null array
      if (static_cast<uint64_t>(n) > kMaxReplyBytes) return Error("redis: reply too large");
      v.type = RespValue::Type::kArray;
      for (int64_t i = 0; i < n; ++i) {
        GS_ASSIGN_OR_RETURN(auto element, parse_at(bytes, next, depth + 1));
        if (!element) return std::optional<RespValue>();
        v.elements.push_back(std::move(*element));
      }
      break;
    }
    default:
      return Error("redis: not a RESP reply (starts with '{}')", type);
  }
  pos = next;
  return std::optional<RespValue>(std::move(v));
}

}  // namespace

std::string encode_command(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

Result<std::optional<RespValue>> parse_reply(std::string_view bytes, size_t& consumed) {
  size_t pos = 0;
  GS_ASSIGN_OR_RETURN(auto reply, parse_at(bytes, pos, 0));
  if (reply) consumed = pos;
  return reply;
}

struct RedisClient::Impl {
  std::string host, port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  tcp::socket socket{ioc};
  std::string pending;  // bytes read past the last reply

  template <typename Start>
  error_code wait(Start start) {
    return run_with_timeout(ioc, socket, timeout, start);
  }

  Status connect() {
    tcp::resolver resolver(ioc);
    error_code ec;
    const auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return Error("redis: cannot resolve {}: {}", host, ec.message());
    ec = wait([&](auto handler) { asio::async_connect(socket, endpoints, handler); });
    if (ec) return Error("redis: cannot connect to {}:{}: {}", host, port, ec.message());
    socket.set_option(tcp::no_delay(true), ec);
    pending.clear();
    return Status::Ok();
  }

  Result<RespValue> exchange(const std::string& request) {
    error_code ec = wait([&](auto handler) { asio::async_write(socket, asio::buffer(request), handler); });
    if (ec) return Error("redis: sending to {}:{}: {}", host, port, ec.message());
    char chunk[4096];
    for (;;) {
      size_t consumed = 0;
      GS_ASSIGN_OR_RETURN(auto reply, parse_reply(pending, consumed));
      if (reply) {
        pending.erase(0, consumed);
        return std::move(*reply);
      }
      if (pending.size() > kMaxReplyBytes) return Error("redis: reply too large");
      size_t n = 0;
      ec = wait([&](auto handler) {
        socket.async_read_some(asio::buffer(chunk), [&n, handler](error_code e, size_t got) mutable {
          n = got;
          handler(e);
        });
      });
      if (ec) return Error("redis: reading from {}:{}: {}", host, port, ec.message());
      pending.append(chunk, n);
    }
  }
};

RedisClient::RedisClient(std::string host, std::string port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = std::move(port);
  impl_->timeout = timeout;
}

RedisClient::~RedisClient() = default;

Result<RespValue> RedisClient::command(const std::vector<std::string>& args) {
  std::lock_guard lock(mutex_);
  Impl& s = *impl_;
  if (!s.socket.is_open()) GS_RETURN_IF_ERROR(s.connect());
  auto reply = s.exchange(encode_command(args));
  if (!reply.ok()) {
    error_code ignored;
    s.socket.close(ignored);  // the stream may be out of step: start over next time
    return reply.status();
  }
  if (reply->type == RespValue::Type::kError) return Error("redis: {}", reply->text);
  return reply;
}

}  // namespace gs::gateway

namespace gs::gateway {

void RedisOutageLog::report(const Status& status) {
  const bool was_down = down_.exchange(!status.ok());
  if (!status.ok() && !was_down) {
    std::fprintf(stderr, "genstack: gateway: %s; %s\n", status.message().c_str(), while_down_.c_str());
  } else if (status.ok() && was_down) {
    std::fprintf(stderr, "genstack: gateway: Redis answers again; %s\n", once_up_.c_str());
  }
}

}  // namespace gs::gateway
