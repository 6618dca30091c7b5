// The YAML side of config.cpp, for stack.yaml (stack.cpp) which holds the
// gateway's keys beside its own.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <set>
#include <string>

#include "gateway/config.h"

namespace gs::gateway {

// Every mapping is checked against the keys it may hold: a misspelt option
// must fail loudly instead of silently keeping its default.
Status check_keys(const YAML::Node& node, const std::string& where,
                  std::initializer_list<const char*> allowed);

inline std::string join(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

// Leaves `out` as it is when `key` is absent.
template <typename T>
Status read_scalar(const YAML::Node& parent, const std::string& where, const char* key, T& out) {
  const YAML::Node node = parent[key];
  if (!node) return Status::Ok();
  try {
    if (!node.IsScalar()) return Error("{}: expected a single value", join(where, key));
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    return Error("{}: '{}' is not a valid value", join(where, key), node.Scalar());
  }
  return Status::Ok();
}

// A route's options besides its model and pool, shared by gateway.yaml's
// routes and stack.yaml's models: aliases, fallback (upstream names, checked
// against config's upstreams), sticky and sticky_prefix_bytes.
Status parse_route_options(const YAML::Node& node, const std::string& where, const Config& config,
                           RouteConfig& route);
// Adds the route's model name and aliases to `names`; an error names the one
// already taken by another route (the model under `where`.`model_key`).
Status claim_route_names(const RouteConfig& route, const std::string& where, const char* model_key,
                         std::set<std::string>& names);

// Reads the gateway keys of `root` (already checked for unknown keys).
// `routes_optional`: upstreams and routes may be absent (routes come from
// elsewhere, e.g. stack.yaml's models).
Status parse_gateway_keys(const YAML::Node& root, Config& config, bool routes_optional);

}  // namespace gs::gateway
