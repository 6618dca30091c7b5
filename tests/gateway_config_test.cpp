// gateway.yaml parsing: good configs and the errors bad ones get.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gateway/config.h"

namespace gs::gateway {
namespace {

constexpr const char* kGood = R"(
listen: 127.0.0.1:9000
upstreams:
  - {name: a, url: "http://127.0.0.1:8001", weight: 2}
  - {name: b, url: "http://localhost:8002/", api_key_env: B_KEY}
routes:
  - {model: stories260K, aliases: [tiny], pool: [a, b], fallback: [b], sticky: prefix, sticky_prefix_bytes: 512}
  - {model: "*", pool: [b]}
tiers:
  free: {models: [stories260K], requests_per_minute: 2, tokens_per_minute: 1000, monthly_tokens: 50000,
         priority: -5}
keys: {db: /tmp/k.db}
health: {interval_s: 2, timeout_s: 1}
ejection: {consecutive_failures: 4, cooldown_s: 3}
limits: {max_body_bytes: 1024, upstream_timeout_s: 30, max_concurrent: 7}
cache: {enabled: true, ttl_s: 60, max_bytes: 4096}
redis: {url: "redis://127.0.0.1:6380"}
)";

TEST(GatewayConfig, ParsesEveryOption) {
  auto c = parse_config(kGood);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 9000);
  ASSERT_EQ(c->upstreams.size(), 2u);
  EXPECT_EQ(c->upstreams[0].port, "8001");
  EXPECT_EQ(c->upstreams[0].weight, 2);
  EXPECT_EQ(c->upstreams[1].host, "localhost");
  EXPECT_EQ(c->upstreams[1].api_key_env, "B_KEY");
  ASSERT_EQ(c->routes.size(), 2u);
  EXPECT_EQ(c->routes[0].aliases, std::vector<std::string>{"tiny"});
  EXPECT_EQ(c->routes[0].fallback, std::vector<std::string>{"b"});
  EXPECT_TRUE(c->routes[0].sticky_prefix);
  EXPECT_EQ(c->routes[0].sticky_prefix_bytes, 512u);
  EXPECT_FALSE(c->routes[1].sticky_prefix);
  EXPECT_EQ(c->routes[1].sticky_prefix_bytes, 1024u);
  const TierConfig& free = c->tiers.at("free");
  EXPECT_EQ(free.requests_per_minute, 2);
  EXPECT_EQ(free.tokens_per_minute, 1000);
  EXPECT_EQ(free.monthly_tokens, 50000);
  EXPECT_EQ(free.priority, -5);
  EXPECT_EQ(c->keys_db, "/tmp/k.db");
  EXPECT_EQ(c->ejection.consecutive_failures, 4);
  EXPECT_EQ(c->limits.max_body_bytes, 1024u);
  EXPECT_EQ(c->limits.max_concurrent, 7);
  EXPECT_TRUE(c->cache.enabled);
  EXPECT_EQ(c->cache.ttl_s, 60);
  EXPECT_EQ(c->cache.max_bytes, 4096u);
  EXPECT_EQ(c->redis.host, "127.0.0.1");
  EXPECT_EQ(c->redis.port, "6380");
}

TEST(GatewayConfig, DefaultsTheKeyDatabaseToGenstackHome) {
  setenv("GENSTACK_HOME", "/tmp/gs-home", 1);
  auto c = parse_config("upstreams: [{name: a, url: 'http://h:1'}]\nroutes: [{model: m, pool: [a]}]\n");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->keys_db, "/tmp/gs-home/gateway.db");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->cache.backend, "memory");
  EXPECT_EQ(usage_db_path(c->keys_db), "/tmp/gs-home/gateway.db");
}

TEST(GatewayConfig, KeysInPostgresAndTheCacheInRedis) {
  setenv("GENSTACK_HOME", "/tmp/gs-home", 1);
  auto c = parse_config(
      "upstreams: [{name: a, url: 'http://h:1'}]\nroutes: [{model: m, pool: [a]}]\n"
      "keys: {db: 'postgresql://gw:pw@db.internal:5432/genstack'}\n"
      "redis: {url: 'redis://127.0.0.1:6379'}\ncache: {enabled: true, backend: redis}\n");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->keys_db, "postgresql://gw:pw@db.internal:5432/genstack");
  EXPECT_EQ(usage_db_path(c->keys_db), "/tmp/gs-home/gateway.db");  // usage stays in SQLite
  EXPECT_EQ(c->cache.backend, "redis");
}

TEST(GatewayConfig, HttpsUpstreams) {
  auto c = parse_config(
      "upstreams: [{name: a, url: 'https://api.example.com'}, {name: b, url: 'https://10.0.0.2:8443',"
      " tls_verify: false}, {name: c, url: 'http://h'}]\nroutes: [{model: m, pool: [a, b, c]}]\n");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->upstreams[0].tls);
  EXPECT_EQ(c->upstreams[0].host, "api.example.com");
  EXPECT_EQ(c->upstreams[0].port, "443");
  EXPECT_TRUE(c->upstreams[0].tls_verify);
  EXPECT_EQ(c->upstreams[1].port, "8443");
  EXPECT_FALSE(c->upstreams[1].tls_verify);
  EXPECT_FALSE(c->upstreams[2].tls);
  EXPECT_EQ(c->upstreams[2].port, "80");
}

// The files only have to exist here; whether they hold a matching PEM pair is the server's check.
TEST(GatewayConfig, TlsNeedsCertAndKeyThatExist) {
  const std::string base = "upstreams: [{name: a, url: 'http://h:1'}]\nroutes: [{model: m, pool: [a]}]\n";
  const auto dir = std::filesystem::temp_directory_path() / ("gs_tls_config_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "c.pem").string();
  const std::string key = (dir / "k.pem").string();
  std::ofstream(cert) << "not checked here\n";
  std::ofstream(key) << "not checked here\n";
  auto plain = parse_config(base);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_TRUE(plain->tls.cert.empty());
  EXPECT_TRUE(plain->tls.key.empty());
  auto tls = parse_config(base + "tls: {cert: " + cert + ", key: " + key + "}\n");
  ASSERT_TRUE(tls.ok()) << tls.error();
  EXPECT_EQ(tls->tls.cert, cert);
  EXPECT_EQ(tls->tls.key, key);
  auto fails = [&](const std::string& block, const std::string& part) {
    auto c = parse_config(base + block);
    ASSERT_FALSE(c.ok()) << block;
    EXPECT_NE(c.error().find(part), std::string::npos) << c.error();
  };
  fails("tls: {cert: " + cert + "}\n", "tls.key: missing");
  fails("tls: {key: " + key + "}\n", "tls.cert: missing");
  fails("tls: {cert: /nonexistent/c.pem, key: " + key + "}\n", "tls.cert: cannot read '/nonexistent/c.pem'");
  fails("tls: {cert: " + cert + ", key: /nonexistent/k.pem}\n", "tls.key: cannot read");
  fails("tls: {cert: " + cert + ", key: " + key + ", ca: x}\n", "tls: unknown key 'ca'");
  fails("tls: " + cert + "\n", "tls: expected a mapping");
  std::filesystem::remove_all(dir);
}

void expect_error(const std::string& yaml, const std::string& part) {
  auto c = parse_config(yaml);
  ASSERT_FALSE(c.ok()) << "accepted: " << yaml;
  EXPECT_NE(c.error().find(part), std::string::npos) << c.error();
}

TEST(GatewayConfig, RejectsBadConfigsWithClearErrors) {
  const std::string ups = "upstreams: [{name: a, url: 'http://h:1'}]\n";
  const std::string route = "routes: [{model: m, pool: [a]}]\n";
  expect_error("listen: [1, 2\n", "line");
  expect_error("- a\n- b\n", "mapping");
  expect_error(ups + route + "lisen: 1.2.3.4:5\n", "unknown key 'lisen'");
  expect_error(ups + route + "listen: nohost\n", "HOST:PORT");
  expect_error(ups + route + "listen: 127.0.0.1:99999\n", "port");
  expect_error(route, "upstreams");
  expect_error("upstreams: [{name: a, url: 'ftp://h'}]\n" + route, "upstreams[0].url");
  expect_error("upstreams: [{name: a, url: 'http://h:1', weight: -1}]\n" + route, "upstreams[0].weight");
  expect_error("upstreams: [{name: a, url: 'http://h:1', weight: lots}]\n" + route,
               "'lots' is not a valid value");
  expect_error("upstreams: [{name: a, url: 'http://h:1'}, {name: a, url: 'http://h:2'}]\n" + route,
               "used twice");
  expect_error(ups + "routes: [{model: m, pool: [zz]}]\n", "no upstream named 'zz'");
  expect_error(ups + "routes: [{model: m, pool: []}]\n", "routes[0].pool");
  expect_error(ups + "routes: [{model: m, pool: [a]}, {model: n, aliases: [m], pool: [a]}]\n",
               "names two routes");
  expect_error(ups + route + "tiers: {free: {requests_per_minute: -1}}\n", "tiers.free.requests_per_minute");
  expect_error(ups + route + "tiers: {free: {rpm: 1}}\n", "unknown key 'rpm'");
  expect_error(ups + route + "tiers: {free: {monthly_tokens: -1}}\n", "tiers.free.monthly_tokens");
  expect_error(ups + "routes: [{model: m, pool: [a], sticky: yes}]\n", "routes[0].sticky: 'yes'");
  expect_error(ups + "routes: [{model: m, pool: [a], sticky_prefix_bytes: 0}]\n",
               "routes[0].sticky_prefix_bytes");
  expect_error(ups + route + "ejection: {consecutive_failures: 0}\n", "ejection.consecutive_failures");
  expect_error(ups + route + "limits: {max_body_bytes: 0}\n", "limits.max_body_bytes");
  expect_error(ups + route + "limits: {max_concurrent: 0}\n", "limits.max_concurrent");
  expect_error(ups + route + "cache: {ttl_s: 0}\n", "cache.ttl_s");
  expect_error(ups + route + "cache: {size: 1}\n", "unknown key 'size'");
  expect_error(ups + route + "cache: {backend: disk}\n", "cache.backend: 'disk' must be memory or redis");
  expect_error(ups + route + "cache: {enabled: true, backend: redis}\n",
               "cache.backend: redis needs redis.url");
  expect_error(ups + route + "redis: {url: 'http://h'}\n", "redis.url");
  expect_error(ups + route + "redis: {url: 'redis://h:x'}\n", "redis.url");
}

}  // namespace
}  // namespace gs::gateway
