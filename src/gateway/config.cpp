#include "gateway/config.h"
#include "gateway/config_yaml.h"
#include "gateway/key_store.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gs::gateway {

Status check_keys(const YAML::Node& node, const std::string& where,
                  std::initializer_list<const char*> allowed) {
  if (!node.IsMap()) return Error("{}: expected a mapping", where);
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) return Error("{}: unknown key '{}'", where, key);
  }
  return Status::Ok();
}

namespace {

Status read_strings(const YAML::Node& parent, const std::string& where, const char* key,
                    std::vector<std::string>& out) {
  const YAML::Node node = parent[key];
  if (!node) return Status::Ok();
  if (node.IsScalar()) {
    out.push_back(node.as<std::string>());
    return Status::Ok();
  }
  if (!node.IsSequence()) return Error("{}: expected a list of names", join(where, key));
  for (const auto& item : node) {
    if (!item.IsScalar()) return Error("{}: expected a list of names", join(where, key));
    out.push_back(item.as<std::string>());
  }
  return Status::Ok();
}

Status positive(double value, const std::string& where) {
  if (!(value > 0) || !std::isfinite(value)) return Error("{}: must be a positive number", where);
  return Status::Ok();
}

Status parse_listen(const std::string& listen, Config& config) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return Error("listen: '{}' is not HOST:PORT", listen);
  config.listen_host = listen.substr(0, colon);
  if (config.listen_host.size() > 2 && config.listen_host.front() == '[') {
    config.listen_host = config.listen_host.substr(1, config.listen_host.size() - 2);
  }
  const std::string port = listen.substr(colon + 1);
  char* end = nullptr;
  const long value = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || value < 0 || value > 65535) {
    return Error("listen: '{}' is not a port number", port);
  }
  config.listen_port = static_cast<uint16_t>(value);
  return Status::Ok();
}

Status parse_url(UpstreamConfig& u, const std::string& where) {
  std::string_view rest = u.url;
  u.tls = rest.starts_with("https://");
  if (!u.tls && !rest.starts_with("http://"))
    return Error("{}.url: '{}' must start with http:// or https://", where, u.url);
  rest.remove_prefix(u.tls ? 8 : 7);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos)
    return Error("{}.url: '{}' must not have a path", where, u.url);
  const size_t colon = rest.rfind(':');
  const bool bracketed_v6 = !rest.empty() && rest.front() == '[';
  if (colon != std::string_view::npos &&
      (!bracketed_v6 || rest.substr(colon).find(']') == std::string_view::npos)) {
    u.host = std::string(rest.substr(0, colon));
    u.port = std::string(rest.substr(colon + 1));
  } else {
    u.host = std::string(rest);
    u.port = u.tls ? "443" : "80";
  }
  if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty() || u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos) {
    return Error("{}.url: '{}' is not http[s]://HOST:PORT", where, u.url);
  }
  return Status::Ok();
}

Status parse_upstreams(const YAML::Node& node, Config& config) {
  if (!node || !node.IsSequence() || node.size() == 0) return Error("upstreams: expected a non-empty list");
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string where = fmt::format("upstreams[{}]", i);
    GS_RETURN_IF_ERROR(
        check_keys(node[i], where, {"name", "url", "weight", "api_key_env", "ca_file", "tls_verify"}));
    UpstreamConfig u;
    GS_RETURN_IF_ERROR(read_scalar(node[i], where, "name", u.name));
    GS_RETURN_IF_ERROR(read_scalar(node[i], where, "url", u.url));
    GS_RETURN_IF_ERROR(read_scalar(node[i], where, "weight", u.weight));
    GS_RETURN_IF_ERROR(read_scalar(node[i], where, "api_key_env", u.api_key_env));
    GS_RETURN_IF_ERROR(read_scalar(node[i], where, "ca_file", u.ca_file));
    GS_RETURN_IF_ERROR(read_scalar(node[i], where, "tls_verify", u.tls_verify));
    if (u.name.empty()) return Error("{}.name: missing", where);
    if (!names.insert(u.name).second) return Error("{}.name: '{}' is used twice", where, u.name);
    GS_RETURN_IF_ERROR(parse_url(u, where));
    GS_RETURN_IF_ERROR(positive(u.weight, where + ".weight"));
    if (!u.tls && (!u.ca_file.empty() || !u.tls_verify))
      return Error("{}: ca_file and tls_verify are for https:// upstreams", where);
    if (!u.ca_file.empty() && !std::filesystem::is_regular_file(u.ca_file))
      return Error("{}.ca_file: '{}' is not a file", where, u.ca_file);
    config.upstreams.push_back(std::move(u));
  }
  return Status::Ok();
}

Status check_upstream_names(const Config& config, const std::vector<std::string>& names,
                            const std::string& where) {
  for (const std::string& name : names) {
    if (!config.upstream(name)) return Error("{}: no upstream named '{}'", where, name);
  }
  return Status::Ok();
}

Status parse_routes(const YAML::Node& node, Config& config) {
  if (!node || !node.IsSequence() || node.size() == 0) return Error("routes: expected a non-empty list");
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string where = fmt::format("routes[{}]", i);
    GS_RETURN_IF_ERROR(check_keys(node[i], where,
                                  {"model", "aliases", "pool", "fallback", "sticky", "sticky_prefix_bytes"}));
    RouteConfig r;
    GS_RETURN_IF_ERROR(read_scalar(node[i], where, "model", r.model));
    GS_RETURN_IF_ERROR(read_strings(node[i], where, "pool", r.pool));
    GS_RETURN_IF_ERROR(parse_route_options(node[i], where, config, r));
    if (r.model.empty()) return Error("{}.model: missing", where);
    if (r.pool.empty()) return Error("{}.pool: expected at least one upstream", where);
    GS_RETURN_IF_ERROR(check_upstream_names(config, r.pool, where + ".pool"));
    GS_RETURN_IF_ERROR(claim_route_names(r, where, "model", names));
    config.routes.push_back(std::move(r));
  }
  return Status::Ok();
}

Status parse_tiers(const YAML::Node& node, Config& config) {
  if (!node) return Status::Ok();
  if (!node.IsMap()) return Error("tiers: expected a mapping of tier names");
  for (const auto& item : node) {
    TierConfig t;
    t.name = item.first.as<std::string>();
    const std::string where = "tiers." + t.name;
    GS_RETURN_IF_ERROR(
        check_keys(item.second, where,
                   {"models", "requests_per_minute", "tokens_per_minute", "monthly_tokens", "priority"}));
    GS_RETURN_IF_ERROR(read_strings(item.second, where, "models", t.models));
    GS_RETURN_IF_ERROR(read_scalar(item.second, where, "requests_per_minute", t.requests_per_minute));
    GS_RETURN_IF_ERROR(read_scalar(item.second, where, "tokens_per_minute", t.tokens_per_minute));
    GS_RETURN_IF_ERROR(read_scalar(item.second, where, "monthly_tokens", t.monthly_tokens));
    GS_RETURN_IF_ERROR(read_scalar(item.second, where, "priority", t.priority));
    if (t.requests_per_minute < 0) return Error("{}.requests_per_minute: must be >= 0", where);
    if (t.tokens_per_minute < 0) return Error("{}.tokens_per_minute: must be >= 0", where);
    if (t.monthly_tokens < 0) return Error("{}.monthly_tokens: must be >= 0", where);
    config.tiers[t.name] = std::move(t);
  }
  return Status::Ok();
}

Status parse_limits(const YAML::Node& l, LimitsConfig& limits) {
  if (!l) return Status::Ok();
  GS_RETURN_IF_ERROR(check_keys(
      l, "limits",
      {"max_body_bytes", "upstream_timeout_s", "connect_timeout_s", "max_attempts", "max_concurrent"}));
  GS_RETURN_IF_ERROR(read_scalar(l, "limits", "max_body_bytes", limits.max_body_bytes));
  GS_RETURN_IF_ERROR(read_scalar(l, "limits", "upstream_timeout_s", limits.upstream_timeout_s));
  GS_RETURN_IF_ERROR(read_scalar(l, "limits", "connect_timeout_s", limits.connect_timeout_s));
  GS_RETURN_IF_ERROR(read_scalar(l, "limits", "max_attempts", limits.max_attempts));
  GS_RETURN_IF_ERROR(read_scalar(l, "limits", "max_concurrent", limits.max_concurrent));
  if (limits.max_body_bytes == 0) return Error("limits.max_body_bytes: must be > 0");
  GS_RETURN_IF_ERROR(positive(limits.upstream_timeout_s, "limits.upstream_timeout_s"));
  GS_RETURN_IF_ERROR(positive(limits.connect_timeout_s, "limits.connect_timeout_s"));
  if (limits.max_attempts < 1) return Error("limits.max_attempts: must be >= 1");
  if (limits.max_concurrent < 1 || limits.max_concurrent > 100000) {
    return Error("limits.max_concurrent: must be 1 to 100000");
  }
  return Status::Ok();
}

Status parse_cache(const YAML::Node& c, CacheConfig& cache) {
  if (!c) return Status::Ok();
  GS_RETURN_IF_ERROR(check_keys(c, "cache", {"enabled", "backend", "ttl_s", "max_bytes"}));
  GS_RETURN_IF_ERROR(read_scalar(c, "cache", "enabled", cache.enabled));
  GS_RETURN_IF_ERROR(read_scalar(c, "cache", "backend", cache.backend));
  if (cache.backend != "memory" && cache.backend != "redis") {
    return Error("cache.backend: '{}' must be memory or redis", cache.backend);
  }
  GS_RETURN_IF_ERROR(read_scalar(c, "cache", "ttl_s", cache.ttl_s));
  GS_RETURN_IF_ERROR(read_scalar(c, "cache", "max_bytes", cache.max_bytes));
  GS_RETURN_IF_ERROR(positive(cache.ttl_s, "cache.ttl_s"));
  if (cache.max_bytes == 0) return Error("cache.max_bytes: must be > 0");
  return Status::Ok();
}

Status parse_redis(const YAML::Node& r, RedisConfig& redis) {
  if (!r) return Status::Ok();
  GS_RETURN_IF_ERROR(check_keys(r, "redis", {"url"}));
  GS_RETURN_IF_ERROR(read_scalar(r, "redis", "url", redis.url));
  std::string_view rest = redis.url;
  if (!rest.starts_with("redis://")) return Error("redis.url: '{}' must start with redis://", redis.url);
  rest.remove_prefix(8);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  redis.host = std::string(rest.substr(0, colon));
  redis.port = colon == std::string_view::npos ? "6379" : std::string(rest.substr(colon + 1));
  if (redis.host.empty() || redis.port.empty() ||
      redis.port.find_first_not_of("0123456789") != std::string::npos ||
      redis.host.find_first_of("/@") != std::string::npos) {
    return Error("redis.url: '{}' is not redis://HOST[:PORT]", redis.url);
  }
  return Status::Ok();
}

// Checked here so a typo shows up as a config error naming the key, not at the first handshake;
// the server later says whether the files hold a matching PEM certificate and key.
Status parse_tls(const YAML::Node& t, TlsConfig& tls) {
  if (!t) return Status::Ok();
  GS_RETURN_IF_ERROR(check_keys(t, "tls", {"cert", "key"}));
  GS_RETURN_IF_ERROR(read_scalar(t, "tls", "cert", tls.cert));
  GS_RETURN_IF_ERROR(read_scalar(t, "tls", "key", tls.key));
  if (tls.cert.empty()) return Error("tls.cert: missing (tls needs both cert and key)");
  if (tls.key.empty()) return Error("tls.key: missing (tls needs both cert and key)");
  for (const auto& [name, path] : {std::pair{"tls.cert", &tls.cert}, std::pair{"tls.key", &tls.key}}) {
    if (!std::ifstream(*path)) return Error("{}: cannot read '{}'", name, *path);
  }
  return Status::Ok();
}

Status parse_sections(const YAML::Node& root, Config& config) {
  if (const YAML::Node keys = root["keys"]) {
    GS_RETURN_IF_ERROR(check_keys(keys, "keys", {"db"}));
    GS_RETURN_IF_ERROR(read_scalar(keys, "keys", "db", config.keys_db));
  }
  if (const YAML::Node h = root["health"]) {
    GS_RETURN_IF_ERROR(check_keys(h, "health", {"interval_s", "timeout_s", "path"}));
    GS_RETURN_IF_ERROR(read_scalar(h, "health", "interval_s", config.health.interval_s));
    GS_RETURN_IF_ERROR(read_scalar(h, "health", "timeout_s", config.health.timeout_s));
    GS_RETURN_IF_ERROR(read_scalar(h, "health", "path", config.health.path));
    GS_RETURN_IF_ERROR(positive(config.health.interval_s, "health.interval_s"));
    GS_RETURN_IF_ERROR(positive(config.health.timeout_s, "health.timeout_s"));
    if (!config.health.path.starts_with('/')) return Error("health.path: must start with '/'");
  }
  if (const YAML::Node e = root["ejection"]) {
    GS_RETURN_IF_ERROR(check_keys(e, "ejection", {"consecutive_failures", "cooldown_s"}));
    GS_RETURN_IF_ERROR(
        read_scalar(e, "ejection", "consecutive_failures", config.ejection.consecutive_failures));
    GS_RETURN_IF_ERROR(read_scalar(e, "ejection", "cooldown_s", config.ejection.cooldown_s));
    if (config.ejection.consecutive_failures < 1) return Error("ejection.consecutive_failures: must be >= 1");
    GS_RETURN_IF_ERROR(positive(config.ejection.cooldown_s, "ejection.cooldown_s"));
  }
  GS_RETURN_IF_ERROR(parse_limits(root["limits"], config.limits));
  GS_RETURN_IF_ERROR(parse_cache(root["cache"], config.cache));
  GS_RETURN_IF_ERROR(parse_redis(root["redis"], config.redis));
  GS_RETURN_IF_ERROR(parse_tls(root["tls"], config.tls));
  GS_RETURN_IF_ERROR(read_scalar(root, "", "io_threads", config.io_threads));
  if (config.io_threads < 1 || config.io_threads > 64) return Error("io_threads: must be 1 to 64");
  return Status::Ok();
}

Status parse_root(const YAML::Node& root, Config& config) {
  GS_RETURN_IF_ERROR(check_keys(root, "gateway config",
                                {"listen", "upstreams", "routes", "tiers", "keys", "health", "ejection",
                                 "limits", "cache", "redis", "io_threads", "tls"}));
  return parse_gateway_keys(root, config, false);
}

}  // namespace

Status parse_route_options(const YAML::Node& node, const std::string& where, const Config& config,
                           RouteConfig& route) {
  GS_RETURN_IF_ERROR(read_strings(node, where, "aliases", route.aliases));
  GS_RETURN_IF_ERROR(read_strings(node, where, "fallback", route.fallback));
  GS_RETURN_IF_ERROR(check_upstream_names(config, route.fallback, where + ".fallback"));
  std::string sticky = route.sticky_prefix ? "prefix" : "none";
  GS_RETURN_IF_ERROR(read_scalar(node, where, "sticky", sticky));
  if (sticky != "none" && sticky != "prefix") {
    return Error("{}.sticky: '{}' must be prefix or none", where, sticky);
  }
  route.sticky_prefix = sticky == "prefix";
  int64_t prefix_bytes = static_cast<int64_t>(route.sticky_prefix_bytes);
  GS_RETURN_IF_ERROR(read_scalar(node, where, "sticky_prefix_bytes", prefix_bytes));
  if (prefix_bytes < 1 || prefix_bytes > (1 << 20)) {
    return Error("{}.sticky_prefix_bytes: must be 1 to 1048576", where);
  }
  route.sticky_prefix_bytes = static_cast<size_t>(prefix_bytes);
  return Status::Ok();
}

Status claim_route_names(const RouteConfig& route, const std::string& where, const char* model_key,
                         std::set<std::string>& names) {
  if (!names.insert(route.model).second) {
    return Error("{}.{}: '{}' has two routes", where, model_key, route.model);
  }
  for (const std::string& alias : route.aliases) {
    if (!names.insert(alias).second) return Error("{}.aliases: '{}' names two routes", where, alias);
  }
  return Status::Ok();
}

Status parse_gateway_keys(const YAML::Node& root, Config& config, bool routes_optional) {
  std::string listen;
  GS_RETURN_IF_ERROR(read_scalar(root, "", "listen", listen));
  if (!listen.empty()) GS_RETURN_IF_ERROR(parse_listen(listen, config));
  if (!routes_optional || root["upstreams"]) GS_RETURN_IF_ERROR(parse_upstreams(root["upstreams"], config));
  if (!routes_optional || root["routes"]) GS_RETURN_IF_ERROR(parse_routes(root["routes"], config));
  GS_RETURN_IF_ERROR(parse_tiers(root["tiers"], config));
  GS_RETURN_IF_ERROR(parse_sections(root, config));
  if (config.keys_db.empty()) config.keys_db = genstack_home() + "/gateway.db";
  if (config.cache.backend == "redis" && config.redis.url.empty()) {
    return Error("cache.backend: redis needs redis.url");
  }
  return Status::Ok();
}

const UpstreamConfig* Config::upstream(std::string_view name) const {
  for (const UpstreamConfig& u : upstreams) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

Result<Config> parse_config(const std::string& yaml_text) {
  Config config;
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsMap()) return Error("gateway config: expected a YAML mapping at the top level");
    GS_RETURN_IF_ERROR(parse_root(root, config));
  } catch (const YAML::Exception& e) {
    return Error("gateway config: line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  return config;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot read {}", path);
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parse_config(text.str());
  if (!config.ok()) return config.status().with_context(path);
  return config;
}

std::string usage_db_path(const std::string& keys_location) {
  // Usage stays in SQLite: keys in PostgreSQL leave it in $GENSTACK_HOME.
  return is_postgres_location(keys_location) ? genstack_home() + "/gateway.db" : keys_location;
}

std::string genstack_home() {
  if (const char* home = std::getenv("GENSTACK_HOME"); home && *home) return home;
  const char* user_home = std::getenv("HOME");
  return std::string(user_home && *user_home ? user_home : ".") + "/.genstack";
}

}  // namespace gs::gateway
