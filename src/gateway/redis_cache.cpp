#include "gateway/redis_cache.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gs::gateway {

RedisResponseCache::RedisResponseCache(const RedisConfig& redis, double ttl_s, size_t max_bytes)
    : ttl_ms_(std::max<int64_t>(1, std::llround(ttl_s * 1000))),
      max_bytes_(max_bytes),
      client_(redis.host, redis.port, std::chrono::milliseconds(1000)) {}

std::shared_ptr<const CachedAnswer> RedisResponseCache::get(const std::string& key, double) {
  auto reply = client_.command({"GET", entry_name(key)});
  outage_.report(reply.status());
  if (!reply.ok() || reply->type != RespValue::Type::kBulk) return nullptr;
  auto answer = parse_answer(reply->text);
  if (!answer.ok()) {
    // Another version of genstack, or not ours: a miss, and the next put replaces it.
    std::fprintf(stderr, "genstack: gateway: ignoring cache entry %s: %s\n", entry_name(key).c_str(),
                 answer.error().c_str());
    return nullptr;
  }
  return std::make_shared<const CachedAnswer>(std::move(*answer));
}

void RedisResponseCache::put(const std::string& key, CachedAnswer answer, double) {
  std::string value = serialize_answer(answer);
  if (value.size() > max_bytes_) return;
  auto reply = client_.command({"SET", entry_name(key), std::move(value), "PX", std::to_string(ttl_ms_)});
  outage_.report(reply.status());
}

}  // namespace gs::gateway
