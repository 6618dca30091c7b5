// The gateway's configuration (gateway.yaml; every option in docs/GATEWAY.md):
// where it listens, the upstream servers, model routes, tiers, key storage
// and limits. parse_config checks everything it can before anything starts,
// so a typo is one clear error rather than a surprise under load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace gs::gateway {

struct UpstreamConfig {
  std::string name;
  std::string url;   // http://host[:port] or https://host[:port]
  std::string host;  // from url
  std::string port;  // from url ("80" or "443" when absent)
  bool tls = false;  // https://
  std::string ca_file;     // https: CA certificates (PEM) to verify it with; "": the system's
  bool tls_verify = true;  // https: check the certificate and host name
  double weight = 1.0;
  std::string api_key_env;  // name of the env variable holding the upstream's key ("" = none)
};

struct RouteConfig {
  std::string model;  // a model name, or "*" for any model
  std::vector<std::string> aliases;
  std::vector<std::string> pool;      // upstream names
  std::vector<std::string> fallback;  // tried when every upstream of the pool failed or is ejected
  // `sticky: prefix`: requests whose prompts start alike go to the same pool
  // upstream (rendezvous hashing of the prompt's first sticky_prefix_bytes),
  // so that its KV prefix cache hits.
  bool sticky_prefix = false;
  size_t sticky_prefix_bytes = 1024;
};

struct TierConfig {
  std::string name;
  std::vector<std::string> models;  // empty or "*": every model
  double requests_per_minute = 0;   // 0: unlimited
  double tokens_per_minute = 0;     // 0: unlimited
  int64_t monthly_tokens = 0;       // prompt + completion tokens per UTC calendar month; 0: unlimited
  int priority = 0;                 // sent upstream as the request's "priority"
};

struct HealthConfig {
  double interval_s = 5;
  double timeout_s = 2;
  std::string path = "/health";
};

struct EjectionConfig {
  int consecutive_failures = 3;
  double cooldown_s = 10;
};

struct LimitsConfig {
  size_t max_body_bytes = 8u << 20;
  double upstream_timeout_s = 300;  // connect, and each wait for upstream bytes
  double connect_timeout_s = 5;
  int max_attempts = 3;  // upstreams tried per request before the fallback pool
  // Proxied requests in flight (each holds a thread); beyond it: 503 with Retry-After.
  int max_concurrent = 256;
};

// Response cache of deterministic requests (temperature 0 or a seed).
struct CacheConfig {
  bool enabled = false;
  std::string backend = "memory";  // "memory": this process; "redis": shared through redis.url
  double ttl_s = 300;
  // memory: answers held, least recently used dropped first; redis: the largest entry stored.
  size_t max_bytes = 64u << 20;
};

// Redis shared by gateway replicas (rate-limit buckets, the response cache
// with cache.backend redis); empty url: in-process.
struct RedisConfig {
  std::string url;   // redis://HOST[:PORT]
  std::string host;  // from url
  std::string port;  // from url ("6379" when absent)
};

// The listener's TLS certificate (chain, leaf first) and private key, PEM; both empty: plain
// HTTP.
struct TlsConfig {
  std::string cert;
  std::string key;
};

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::vector<UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  std::map<std::string, TierConfig> tiers;
  // A SQLite path or a postgresql:// URI; "" until resolved: $GENSTACK_HOME/gateway.db.
  std::string keys_db;
  HealthConfig health;
  EjectionConfig ejection;
  LimitsConfig limits;
  CacheConfig cache;
  RedisConfig redis;
  TlsConfig tls;
  int io_threads = 2;

  const UpstreamConfig* upstream(std::string_view name) const;
};

// Parses YAML text; errors name the offending key, e.g. "upstreams[1].url: ...".
Result<Config> parse_config(const std::string& yaml_text);
Result<Config> load_config(const std::string& path);

// The SQLite file of usage accounting: the key database itself, or
// $GENSTACK_HOME/gateway.db when the keys are in PostgreSQL.
std::string usage_db_path(const std::string& keys_location);

// $GENSTACK_HOME, else ~/.genstack.
std::string genstack_home();

}  // namespace gs::gateway
