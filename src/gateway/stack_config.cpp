#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "gateway/config_yaml.h"
#include "gateway/stack.h"

namespace gs::gateway {
namespace {

Status not_negative(double value, const std::string& where) {
  if (!(value >= 0) || !std::isfinite(value)) return Error("{}: must be a number >= 0", where);
  return Status::Ok();
}

Status parse_policy(const YAML::Node& node, const std::string& where, ReplicaPolicy& p) {
  if (!node) return Status::Ok();
  GS_RETURN_IF_ERROR(check_keys(
      node, where, {"min", "max", "target_queue", "target_tokens_per_s", "cooldown_s", "idle_to_zero_s"}));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "min", p.min));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "max", p.max));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "target_queue", p.target_queue));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "target_tokens_per_s", p.target_tokens_per_s));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "cooldown_s", p.cooldown_s));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "idle_to_zero_s", p.idle_to_zero_s));
  if (p.min < 0) return Error("{}.min: must be 0 or more", where);
  if (p.max < 1 || p.max < p.min) return Error("{}.max: must be at least 1 and at least min", where);
  if (!(p.target_queue > 0) || !std::isfinite(p.target_queue)) {
    return Error("{}.target_queue: must be a positive number", where);
  }
  GS_RETURN_IF_ERROR(not_negative(p.target_tokens_per_s, where + ".target_tokens_per_s"));
  GS_RETURN_IF_ERROR(not_negative(p.cooldown_s, where + ".cooldown_s"));
  GS_RETURN_IF_ERROR(not_negative(p.idle_to_zero_s, where + ".idle_to_zero_s"));
  return Status::Ok();
}

Status parse_model(const YAML::Node& node, const std::string& where, ModelStack& m) {
  GS_RETURN_IF_ERROR(check_keys(node, where,
                                {"name", "model", "serve_args", "replicas", "start_timeout_s", "aliases",
                                 "fallback", "sticky", "sticky_prefix_bytes"}));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "name", m.name));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "model", m.model));
  GS_RETURN_IF_ERROR(read_scalar(node, where, "start_timeout_s", m.start_timeout_s));
  if (m.model.empty()) return Error("{}.model: missing (a GGUF path or a store reference)", where);
  if (m.name.empty()) return Error("{}.name: missing", where);
  if (!(m.start_timeout_s > 0)) return Error("{}.start_timeout_s: must be a positive number", where);
  if (const YAML::Node args = node["serve_args"]) {
    if (!args.IsSequence()) return Error("{}.serve_args: expected a list of arguments", where);
    for (const auto& a : args) {
      if (!a.IsScalar()) return Error("{}.serve_args: expected a list of arguments", where);
      m.serve_args.push_back(a.as<std::string>());
    }
  }
  return parse_policy(node["replicas"], where + ".replicas", m.replicas);
}

Status parse_models(const YAML::Node& node, StackConfig& stack) {
  if (!node || !node.IsSequence() || node.size() == 0) return Error("models: expected a non-empty list");
  std::set<std::string> names;
  for (const RouteConfig& r : stack.gateway.routes) {
    GS_RETURN_IF_ERROR(claim_route_names(r, "routes", "model", names));
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string where = fmt::format("models[{}]", i);
    ModelStack m;
    GS_RETURN_IF_ERROR(parse_model(node[i], where, m));
    // The route's pool is the model's replicas, filled in as they start.
    RouteConfig route;
    route.model = m.name;
    GS_RETURN_IF_ERROR(parse_route_options(node[i], where, stack.gateway, route));
    GS_RETURN_IF_ERROR(claim_route_names(route, where, "name", names));
    stack.gateway.routes.push_back(std::move(route));
    stack.models.push_back(std::move(m));
  }
  return Status::Ok();
}

}  // namespace

Result<StackConfig> parse_stack(const std::string& yaml_text) {
  StackConfig stack;
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsMap()) return Error("stack: expected a YAML mapping at the top level");
    GS_RETURN_IF_ERROR(check_keys(root, "stack",
                                  {"listen", "upstreams", "routes", "tiers", "keys", "health", "ejection",
                                   "limits", "cache", "redis", "io_threads", "tls", "models"}));
    GS_RETURN_IF_ERROR(parse_gateway_keys(root, stack.gateway, true));
    GS_RETURN_IF_ERROR(parse_models(root["models"], stack));
  } catch (const YAML::Exception& e) {
    return Error("stack: line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  return stack;
}

Result<StackConfig> load_stack(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot read {}", path);
  std::ostringstream text;
  text << in.rdbuf();
  auto stack = parse_stack(text.str());
  if (!stack.ok()) return stack.status().with_context(path);
  return stack;
}

}  // namespace gs::gateway
