// The gateway's response cache: exact match on the normalized request
// (route, model, messages or prompt, every sampling field, as canonical
// JSON) for deterministic requests only (temperature 0, or a fixed seed),
// with a TTL. In the gateway's memory with a size bound in bytes (least
// recently used dropped first), or in Redis (redis_cache.h) shared by
// several gateways. A streamed answer is kept as its events, so that a
// streaming request is served from the cache as a stream.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "gateway/stream_relay.h"

namespace gs::gateway {

// JSON with every object's keys sorted and integral numbers written as
// integers (0 and 0.0 are the same request), whatever order they came in.
std::string canonical_json(const boost::json::value& value);

// True when the same request gives the same answer: temperature 0 or an
// integer seed, at the top level (OpenAI) or in "options" (Ollama).
bool is_deterministic(const boost::json::object& body);

// The cache key of a request to `route`: a SHA-256 of the route and the
// canonical body without the fields that do not change the answer
// ("priority", "user").
std::string cache_key(std::string_view route, const boost::json::object& body);

struct CachedAnswer {
  std::string content_type;
  bool streamed = false;
  std::vector<std::string> pieces;  // the body, or the events of a stream
  Usage usage;

  size_t bytes() const;
};

// An answer as bytes (for Redis) and back; parse_answer fails on anything
// serialize_answer did not write.
std::string serialize_answer(const CachedAnswer& answer);
Result<CachedAnswer> parse_answer(std::string_view bytes);

// What a cache holds in this process, for the metrics.
struct CacheContents {
  size_t bytes = 0;
  size_t entries = 0;
};

class ResponseCache {
 public:
  virtual ~ResponseCache() = default;
  // The live answer for `key`, or null.
  virtual std::shared_ptr<const CachedAnswer> get(const std::string& key, double now) = 0;
  // Stores (or replaces) an answer; one larger than max_bytes() is not stored.
  virtual void put(const std::string& key, CachedAnswer answer, double now) = 0;
  // The largest answer kept: a stream stops being captured past it.
  virtual size_t max_bytes() const = 0;
  // nullopt when the entries are not in this process (Redis).
  virtual std::optional<CacheContents> contents() const = 0;
};

// The cache in this process, bounded by max_bytes over all its entries.
class MemoryResponseCache : public ResponseCache {
 public:
  MemoryResponseCache(double ttl_s, size_t max_bytes);

  // A hit becomes the most recently used.
  std::shared_ptr<const CachedAnswer> get(const std::string& key, double now) override;
  // Drops the least recently used answers past max_bytes.
  void put(const std::string& key, CachedAnswer answer, double now) override;
  size_t max_bytes() const override { return max_bytes_; }
  std::optional<CacheContents> contents() const override;
  size_t bytes() const;
  size_t entries() const;

 private:
  struct Entry {
    std::shared_ptr<const CachedAnswer> answer;
    double expires_at;
    std::list<std::string>::iterator position;  // in recency_
  };
  void erase(std::unordered_map<std::string, Entry>::iterator it);

  const double ttl_s_;
  const size_t max_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> recency_;  // most recently used first
  size_t bytes_ = 0;
};

}  // namespace gs::gateway
