// The response cache in Redis, shared by every gateway pointing at it: one
// string per answer, `genstack:gateway:cache:<cache key>`, written with
// SET ... PX so that Redis drops it after the TTL. A Redis that does not
// answer makes every lookup a miss (said once on stderr), never an error.
#pragma once

#include "gateway/config.h"
#include "gateway/redis_client.h"
#include "gateway/response_cache.h"

namespace gs::gateway {

class RedisResponseCache : public ResponseCache {
 public:
  // `max_bytes` bounds one serialized answer; Redis's own maxmemory policy bounds the whole.
  RedisResponseCache(const RedisConfig& redis, double ttl_s, size_t max_bytes);

  std::shared_ptr<const CachedAnswer> get(const std::string& key, double now) override;
  void put(const std::string& key, CachedAnswer answer, double now) override;
  size_t max_bytes() const override { return max_bytes_; }
  std::optional<CacheContents> contents() const override { return std::nullopt; }

  static std::string entry_name(const std::string& key) { return "genstack:gateway:cache:" + key; }

 private:
  const int64_t ttl_ms_;
  const size_t max_bytes_;
  RedisClient client_;
  RedisOutageLog outage_{"cached answers are misses until Redis answers again", "the cache is shared"};
};

}  // namespace gs::gateway
