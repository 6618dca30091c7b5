// A small Redis client speaking RESP2 over one TCP connection (Asio),
// blocking with a timeout on every wait: enough for the gateway's shared
// rate-limit buckets (EVAL of a Lua script) and response cache (GET, SET).
// Reconnects on the next command after any failure.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gs::gateway {

struct RespValue {
  enum class Type { kSimple, kError, kInteger, kBulk, kNull, kArray };
  Type type = Type::kNull;
  std::string text;  // simple string, error or bulk string
  int64_t integer = 0;
  std::vector<RespValue> elements;
};

// A command as a RESP array of bulk strings.
std::string encode_command(const std::vector<std::string>& args);
// Parses one reply from the front of `bytes`: nullopt while it is incomplete,
// else the reply with `consumed` set to its length; an error for bytes that
// are not RESP.
Result<std::optional<RespValue>> parse_reply(std::string_view bytes, size_t& consumed);

class RedisClient {
 public:
  RedisClient(std::string host, std::string port, std::chrono::milliseconds timeout);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command and returns its reply; a Redis error reply is an error.
  // Thread-safe (commands are serialized on the one connection).
  Result<RespValue> command(const std::vector<std::string>& args);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::mutex mutex_;
};

// Whoever falls back to something local while Redis is down says so once on
// stderr, and once when it answers again, not on every command.
class RedisOutageLog {
 public:
  // `while_down` and `once_up` finish the two lines, e.g. "limits are per
  // gateway until Redis answers again" and "limits are shared".
  RedisOutageLog(std::string while_down, std::string once_up)
      : while_down_(std::move(while_down)), once_up_(std::move(once_up)) {}
  // Takes the outcome of each command.
  void report(const Status& status);

 private:
  const std::string while_down_, once_up_;
  std::atomic<bool> down_{false};
};

}  // namespace gs::gateway
