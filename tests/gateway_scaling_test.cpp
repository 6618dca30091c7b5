// The scaling policy of `genstack up` as a pure function: samples and time
// in, a replica count out. The clock is whatever the test says.
#include <gtest/gtest.h>

#include "gateway/replicas.h"
#include "gateway/scaling.h"
#include "gateway/stack.h"

namespace gs::gateway {
namespace {

ReplicaPolicy policy() {
  ReplicaPolicy p;
  p.min = 1;
  p.max = 3;
  p.target_queue = 2;
  p.cooldown_s = 10;
  return p;
}

ScalingInput at(double now, int replicas, double queue, double last_request = 0) {
  return ScalingInput{now, replicas, queue, 0, last_request};
}

TEST(GatewayScaling, AddsAReplicaAboveTheTargetQueue) {
  ScalingState state;
  const ScalingDecision d = decide_replicas(policy(), at(5, 1, 5.0, 5), state);
  EXPECT_EQ(d.replicas, 2);
  EXPECT_EQ(d.reason, "queue 5.0 > 2");
}

TEST(GatewayScaling, NeverAboveMax) {
  ScalingState state;
  EXPECT_EQ(decide_replicas(policy(), at(5, 3, 50, 5), state).replicas, 3);
}

TEST(GatewayScaling, HoldsBetweenHalfAndTheTarget) {
  ScalingState state;
  for (double t = 0; t < 60; t += 1)
    EXPECT_EQ(decide_replicas(policy(), at(t, 2, 1.5, t), state).replicas, 2);
}

TEST(GatewayScaling, RemovesOneAfterTheCooldownBelowHalf) {
  ScalingState state;
  const ReplicaPolicy p = policy();
  for (double t = 0; t < 10; t += 1) EXPECT_EQ(decide_replicas(p, at(t, 3, 0.5, t), state).replicas, 3);
  EXPECT_EQ(decide_replicas(p, at(10, 3, 0.5, 10), state).replicas, 2);
  // The next one only after another cool-down.
  EXPECT_EQ(decide_replicas(p, at(11, 2, 0.5, 11), state).replicas, 2);
  EXPECT_EQ(decide_replicas(p, at(20, 2, 0.5, 20), state).replicas, 1);
  EXPECT_EQ(decide_replicas(p, at(40, 1, 0, 40), state).replicas, 1);  // never below min
}

TEST(GatewayScaling, LoadRestartsTheCooldown) {
  ScalingState state;
  const ReplicaPolicy p = policy();
  EXPECT_EQ(decide_replicas(p, at(0, 2, 0, 0), state).replicas, 2);
  EXPECT_EQ(decide_replicas(p, at(8, 2, 1.5, 8), state).replicas, 2);  // not calm: starts over
  EXPECT_EQ(decide_replicas(p, at(9, 2, 0, 9), state).replicas, 2);
  EXPECT_EQ(decide_replicas(p, at(18, 2, 0, 18), state).replicas, 2);
  EXPECT_EQ(decide_replicas(p, at(19, 2, 0, 19), state).replicas, 1);
}

TEST(GatewayScaling, TokensPerSecondTargetWhenSet) {
  ScalingState state;
  ReplicaPolicy p = policy();
  EXPECT_EQ(decide_replicas(p, ScalingInput{0, 1, 0, 500, 0}, state).replicas, 1);  // off
  p.target_tokens_per_s = 100;
  const ScalingDecision d = decide_replicas(p, ScalingInput{0, 1, 0, 500, 0}, state);
  EXPECT_EQ(d.replicas, 2);
  EXPECT_EQ(d.reason, "tokens/s 500.0 > 100");
}

TEST(GatewayScaling, IdleGoesToZeroAndStaysThere) {
  ScalingState state;
  ReplicaPolicy p = policy();
  p.idle_to_zero_s = 30;
  EXPECT_EQ(decide_replicas(p, at(29, 1, 0, 0), state).replicas, 1);
  const ScalingDecision d = decide_replicas(p, at(30, 2, 0, 0), state);
  EXPECT_EQ(d.replicas, 0);
  EXPECT_EQ(d.reason, "idle 30s >= 30s");
  EXPECT_EQ(decide_replicas(p, at(100, 0, 0, 0), state).replicas, 0);  // the next request starts one
}

TEST(GatewayScaling, BackToMinWhenReplicasDiedWithoutIdleToZero) {
  ScalingState state;
  const ScalingDecision d = decide_replicas(policy(), at(3, 0, 0, 3), state);
  EXPECT_EQ(d.replicas, 1);
  EXPECT_EQ(d.reason, "below min 1");
}

TEST(GatewayScaling, WindowAveragesRecentSamplesOnly) {
  SampleWindow window(3);
  EXPECT_EQ(window.average(), 0);
  window.add(0, 9);
  window.add(1, 3);
  EXPECT_DOUBLE_EQ(window.average(), 6);
  window.add(5, 1);  // the samples at 0 and 1 are older than 3 s
  EXPECT_DOUBLE_EQ(window.average(), 1);
}

TEST(GatewayScaling, SumsAMetricOverItsLabels) {
  const std::string text =
      "# HELP genstack_queue_length Requests waiting\n"
      "genstack_queue_length{model=\"a\"} 3\n"
      "genstack_queue_length{model=\"b\"} 2\n"
      "genstack_queue_length_other 100\n"
      "genstack_generation_tokens_total 42\n";
  EXPECT_DOUBLE_EQ(sum_metric(text, "genstack_queue_length"), 5);
  EXPECT_DOUBLE_EQ(sum_metric(text, "genstack_generation_tokens_total"), 42);
  EXPECT_DOUBLE_EQ(sum_metric(text, "absent"), 0);
}

TEST(GatewayStackConfig, ModelsBecomeRoutesWithTheirPolicy) {
  auto stack = parse_stack(R"(
listen: 127.0.0.1:0
tiers: {pro: {models: ["*"]}}
keys: {db: /tmp/x.db}
models:
  - name: tiny
    model: /models/tiny.gguf
    serve_args: ["--parallel", "4"]
    replicas: {min: 0, max: 2, target_queue: 1.5, cooldown_s: 3, idle_to_zero_s: 60}
)");
  ASSERT_TRUE(stack.ok()) << stack.status().message();
  ASSERT_EQ(stack->models.size(), 1u);
  const ModelStack& m = stack->models[0];
  EXPECT_EQ(m.model, "/models/tiny.gguf");
  EXPECT_EQ(m.serve_args, (std::vector<std::string>{"--parallel", "4"}));
  EXPECT_EQ(m.replicas.min, 0);
  EXPECT_EQ(m.replicas.max, 2);
  EXPECT_DOUBLE_EQ(m.replicas.target_queue, 1.5);
  EXPECT_DOUBLE_EQ(m.replicas.idle_to_zero_s, 60);
  ASSERT_EQ(stack->gateway.routes.size(), 1u);
  EXPECT_EQ(stack->gateway.routes[0].model, "tiny");
  EXPECT_TRUE(stack->gateway.upstreams.empty());
}

// A model's route takes the route options of gateway.yaml: aliases, a
// fallback pool, sticky routing.
TEST(GatewayStackConfig, ModelsTakeRouteOptions) {
  auto stack = parse_stack(R"(
upstreams: [{name: remote, url: "http://127.0.0.1:9"}]
tiers: {pro: {models: ["*"]}}
keys: {db: /tmp/x.db}
models:
  - name: tiny
    model: /models/tiny.gguf
    aliases: [small, mini]
    fallback: [remote]
    sticky: prefix
    sticky_prefix_bytes: 256
  - name: other
    model: /models/other.gguf
)");
  ASSERT_TRUE(stack.ok()) << stack.status().message();
  ASSERT_EQ(stack->gateway.routes.size(), 2u);
  const RouteConfig& tiny = stack->gateway.routes[0];
  EXPECT_EQ(tiny.model, "tiny");
  EXPECT_EQ(tiny.aliases, (std::vector<std::string>{"small", "mini"}));
  EXPECT_EQ(tiny.fallback, (std::vector<std::string>{"remote"}));
  EXPECT_TRUE(tiny.pool.empty());  // the replicas, as they start
  EXPECT_TRUE(tiny.sticky_prefix);
  EXPECT_EQ(tiny.sticky_prefix_bytes, 256u);
  const RouteConfig& other = stack->gateway.routes[1];
  EXPECT_FALSE(other.sticky_prefix);
  EXPECT_TRUE(other.aliases.empty());
}

TEST(GatewayStackConfig, BadInputNamesTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"models: []", "models: expected a non-empty list"},
      {"modelz: []", "stack: unknown key 'modelz'"},
      {"models: [{name: a}]", "models[0].model: missing"},
      {"models: [{name: a, model: m, replicas: {min: 2, max: 1}}]", "models[0].replicas.max"},
      {"models: [{name: a, model: m, replicas: {target_queue: 0}}]", "models[0].replicas.target_queue"},
      {"models: [{name: a, model: m, replicas: {maxx: 1}}]", "models[0].replicas: unknown key 'maxx'"},
      {"models: [{name: a, model: m}, {name: a, model: n}]", "models[1].name: 'a' has two routes"},
      {"models: [{name: a, model: m, aliases: [b]}, {name: b, model: n}]",
       "models[1].name: 'b' has two routes"},
      {"models: [{name: a, model: m}, {name: b, model: n, aliases: [a]}]",
       "models[1].aliases: 'a' names two"},
      {"models: [{name: a, model: m, sticky: always}]", "models[0].sticky: 'always' must be prefix or none"},
      {"models: [{name: a, model: m, sticky_prefix_bytes: 0}]", "models[0].sticky_prefix_bytes"},
      {"models: [{name: a, model: m, fallback: [nowhere]}]",
       "models[0].fallback: no upstream named 'nowhere'"},
  };
  for (const auto& [yaml, error] : cases) {
    auto stack = parse_stack(yaml);
    ASSERT_FALSE(stack.ok()) << yaml;
    EXPECT_NE(stack.status().message().find(error), std::string::npos) << stack.status().message();
  }
}

}  // namespace
}  // namespace gs::gateway
