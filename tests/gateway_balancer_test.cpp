// Upstream choice: power of two choices, sticky (rendezvous) choice, prompt
// prefixes, circuit breaker, token buckets.
// Time is always passed in; nothing here reads a clock.
#include <gtest/gtest.h>

#include <map>

#include "gateway/balancer.h"
#include "gateway/prompt_prefix.h"
#include "gateway/rate_limit.h"

namespace gs::gateway {
namespace {

TEST(GatewayTwoChoices, PrefersTheLessLoadedOfTwo) {
  std::mt19937_64 rng(1);
  const std::vector<Candidate> two{{1, 5}, {1, 0}};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(pick_two_choices(two, rng), 1u);
}

TEST(GatewayTwoChoices, NeverPicksTheMostLoadedOfMany) {
  std::mt19937_64 rng(2);
  const std::vector<Candidate> many{{1, 0}, {1, 9}, {1, 1}, {1, 2}};
  for (int i = 0; i < 500; ++i) EXPECT_NE(pick_two_choices(many, rng), 1u);
}

TEST(GatewayTwoChoices, WeightsScaleLoadAndDraws) {
  std::mt19937_64 rng(3);
  // Equal load per unit of weight: the heavier one is drawn (and kept) more often.
  const std::vector<Candidate> c{{3, 0}, {1, 0}, {1, 0}, {1, 0}};
  int heavy = 0;
  for (int i = 0; i < 4000; ++i) heavy += pick_two_choices(c, rng) == 0;
  EXPECT_GT(heavy, 1600);  // drawn in ~80% of pairs; a tie keeps the first drawn
  const std::vector<Candidate> loaded{{4, 3}, {1, 1}};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(pick_two_choices(loaded, rng), 0u);  // 0.75 < 1 per weight
}

std::vector<Candidate> named(const std::vector<std::pair<std::string, double>>& upstreams) {
  std::vector<Candidate> out;
  for (const auto& [name, weight] : upstreams) out.push_back({weight, 0, stable_hash(name)});
  return out;
}

TEST(GatewaySticky, RemovingOneUpstreamMovesOnlyItsOwnPrefixes) {
  const std::vector<Candidate> four = named({{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  std::vector<Candidate> without_c = four;
  without_c.erase(without_c.begin() + 2);  // a, b, d
  const size_t kKeys = 4000;
  std::map<size_t, int> per_upstream;
  for (uint64_t k = 0; k < kKeys; ++k) {
    const uint64_t affinity = stable_hash("prompt " + std::to_string(k));
    const size_t before = rendezvous_choice(four, affinity);
    EXPECT_EQ(before, rendezvous_choice(four, affinity)) << "deterministic";
    ++per_upstream[before];
    const size_t after = rendezvous_choice(without_c, affinity);
    if (before != 2) {
      EXPECT_EQ(without_c[after].name_hash, four[before].name_hash) << "key " << k << " moved";
    }
  }
  for (const auto& [upstream, n] : per_upstream) EXPECT_NEAR(n, kKeys / 4.0, kKeys * 0.05) << upstream;
}

TEST(GatewaySticky, WeightsSetTheShareOfPrefixes) {
  const std::vector<Candidate> c = named({{"heavy", 3}, {"light", 1}});
  int heavy = 0;
  for (int k = 0; k < 4000; ++k) heavy += rendezvous_choice(c, stable_hash(std::to_string(k))) == 0;
  EXPECT_NEAR(heavy, 3000, 150);
}

TEST(GatewaySticky, AnOverloadedChoiceFallsBackToTwoChoices) {
  std::mt19937_64 rng(5);
  std::vector<Candidate> c = named({{"a", 1}, {"b", 1}});
  const uint64_t affinity = stable_hash("a long shared system prompt");
  const size_t preferred = rendezvous_choice(c, affinity);
  c[preferred].outstanding = 4;  // 4 <= 2 * 0 + kStickySlack: still sticky
  for (int i = 0; i < 50; ++i) EXPECT_EQ(pick_sticky(c, affinity, rng), preferred);
  c[preferred].outstanding = 5;  // past the slack: the idle one
  for (int i = 0; i < 50; ++i) EXPECT_EQ(pick_sticky(c, affinity, rng), 1 - preferred);
  c[1 - preferred].outstanding = 3;  // 5 <= 2 * 3 + 4: sticky again
  EXPECT_EQ(pick_sticky(c, affinity, rng), preferred);
}

TEST(GatewaySticky, BalancerKeepsAPrefixOnOneUpstreamAndMovesItWhenEjected) {
  Balancer bal({"r0", "r1", "r2"}, {1, 1, 1}, {1, 10}, 11);
  const std::vector<size_t> pool{0, 1, 2};
  const uint64_t affinity = stable_hash("user\nOnce upon a time\n");
  const int first = bal.choose(pool, {}, 0, affinity);
  ASSERT_GE(first, 0);
  bal.finish(first, Balancer::Outcome::kSuccess, 0);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(bal.choose(pool, {}, 0, affinity), first);
    bal.finish(first, Balancer::Outcome::kSuccess, 0);
  }
  // Ejected: the prefix goes to its next rendezvous choice, always the same one.
  const int ejected = bal.choose(pool, {}, 1, affinity);
  EXPECT_TRUE(bal.finish(ejected, Balancer::Outcome::kFailure, 1));
  const int second = bal.choose(pool, {}, 2, affinity);
  ASSERT_GE(second, 0);
  EXPECT_NE(second, first);
  bal.finish(second, Balancer::Outcome::kSuccess, 2);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(bal.choose(pool, {}, 2, affinity), second);
    bal.finish(second, Balancer::Outcome::kSuccess, 2);
  }
  // A retry never gets an upstream already tried.
  const std::vector<size_t> tried{static_cast<size_t>(second)};
  const int retry = bal.choose(pool, tried, 2, affinity);
  EXPECT_TRUE(retry >= 0 && retry != first && retry != second);
  bal.finish(retry, Balancer::Outcome::kSuccess, 2);
  // Back after the cool-down (the half-open probe succeeds): the prefix returns.
  EXPECT_EQ(bal.choose(pool, {}, 11, affinity), first);
  bal.finish(first, Balancer::Outcome::kSuccess, 11);
  EXPECT_EQ(bal.choose(pool, {}, 11, affinity), first);
  bal.finish(first, Balancer::Outcome::kSuccess, 11);
}

TEST(GatewayPromptPrefix, ChatIsRolesAndContentsInOrder) {
  const auto chat = boost::json::parse(R"({"messages": [{"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": " there"}]}]})")
                        .as_object();
  EXPECT_EQ(prompt_prefix("/v1/chat/completions", chat, 1024), "system\nBe brief.\nuser\nHi there\n");
  EXPECT_EQ(prompt_prefix("/api/chat", chat, 1024), "system\nBe brief.\nuser\nHi there\n");
  EXPECT_EQ(prompt_prefix("/v1/chat/completions", chat, 10), "system\nBe ");
  EXPECT_EQ(prompt_prefix("/v1/embeddings", chat, 1024), std::nullopt);
}

TEST(GatewayPromptPrefix, CompletionsAreThePrompt) {
  using boost::json::parse;
  EXPECT_EQ(prompt_prefix("/v1/completions", parse(R"({"prompt": "Once"})").as_object(), 1024), "Once");
  EXPECT_EQ(prompt_prefix("/v1/completions", parse(R"({"prompt": ["a", "b"]})").as_object(), 1024), "a");
  EXPECT_EQ(prompt_prefix("/v1/completions", parse(R"({"prompt": [1, 2]})").as_object(), 1024), "[1,2]");
  EXPECT_EQ(prompt_prefix("/api/generate", parse(R"({"system": "S", "prompt": "P"})").as_object(), 1024),
            "S\nP");
  EXPECT_EQ(prompt_prefix("/api/generate", parse(R"({"prompt": ""})").as_object(), 1024), std::nullopt);
}

TEST(GatewayCircuitBreaker, OpensAfterConsecutiveFailuresAndProbesOnce) {
  CircuitBreaker b(3, 10);
  EXPECT_FALSE(b.on_failure(0));
  b.on_success();  // resets the count
  EXPECT_FALSE(b.on_failure(1));
  EXPECT_FALSE(b.on_failure(1));
  EXPECT_TRUE(b.on_failure(2));
  EXPECT_EQ(b.state(2), BreakerState::kOpen);
  EXPECT_FALSE(b.try_acquire(11.9));
  EXPECT_EQ(b.state(12), BreakerState::kHalfOpen);
  EXPECT_TRUE(b.try_acquire(12));   // the probe
  EXPECT_FALSE(b.try_acquire(12));  // only one
  b.on_failure(13);                 // probe failed: another cool-down
  EXPECT_EQ(b.state(22.9), BreakerState::kOpen);
  EXPECT_TRUE(b.try_acquire(23));
  b.on_success();
  EXPECT_EQ(b.state(23), BreakerState::kClosed);
  EXPECT_TRUE(b.try_acquire(23));
}

TEST(GatewayCircuitBreaker, HealthCheckReadmitsOnlyAfterTheCoolDown) {
  CircuitBreaker b(1, 5);
  EXPECT_TRUE(b.on_failure(0));
  b.on_health_ok(4);
  EXPECT_EQ(b.state(4), BreakerState::kOpen);
  b.on_health_ok(5);
  EXPECT_EQ(b.state(5), BreakerState::kClosed);
}

TEST(GatewayBalancer, SkipsEjectedUnhealthyAndTriedUpstreams) {
  Balancer bal({"a", "b", "c"}, {1, 1, 1}, {1, 10}, 7);
  const std::vector<size_t> pool{0, 1, 2};
  bal.set_health(2, false, 0);
  const int first = bal.choose(pool, {}, 0);
  ASSERT_TRUE(first == 0 || first == 1);
  EXPECT_TRUE(bal.finish(first, Balancer::Outcome::kFailure, 0));  // ejected
  const std::vector<size_t> none_tried;
  for (int i = 0; i < 20; ++i) {
    const int next = bal.choose(pool, none_tried, 1);
    EXPECT_EQ(next, 1 - first);
    bal.finish(next, Balancer::Outcome::kSuccess, 1);
  }
  const std::vector<size_t> tried{static_cast<size_t>(1 - first)};
  EXPECT_EQ(bal.choose(pool, tried, 1), -1);
  EXPECT_EQ(bal.choose(pool, tried, 10), first);  // half-open probe after the cool-down
  EXPECT_EQ(bal.choose(pool, tried, 10), -1);     // one probe at a time
  bal.finish(first, Balancer::Outcome::kSuccess, 10);
  EXPECT_EQ(bal.stats(10)[first].breaker, BreakerState::kClosed);
  EXPECT_EQ(bal.stats(10)[first].ejections, 1u);
}

TEST(GatewayTokenBucket, RefillsWithInjectedTime) {
  TokenBucket b(2, 60, 100);
  EXPECT_TRUE(b.try_take(1, 100));
  EXPECT_TRUE(b.try_take(1, 100));
  EXPECT_FALSE(b.try_take(1, 100));
  EXPECT_DOUBLE_EQ(b.seconds_until(1, 100), 30);
  EXPECT_FALSE(b.try_take(1, 129.9));
  EXPECT_TRUE(b.try_take(1, 130));
  b.charge(10, 130);  // tokens are charged after the fact and may overdraw
  EXPECT_LT(b.level(130), 0);
}

TEST(GatewayRateLimiter, RefusesOverTheLimitWithHeaders) {
  RateLimiter limiter;
  EXPECT_TRUE(limiter.admit(1, 2, 0, 0).allowed);
  auto second = limiter.admit(1, 2, 0, 0);
  EXPECT_TRUE(second.allowed);
  ASSERT_EQ(second.headers.size(), 3u);
  EXPECT_EQ(second.headers[0], (std::pair<std::string, std::string>{"x-ratelimit-limit-requests", "2"}));
  EXPECT_EQ(second.headers[1], (std::pair<std::string, std::string>{"x-ratelimit-remaining-requests", "0"}));
  EXPECT_EQ(second.headers[2], (std::pair<std::string, std::string>{"x-ratelimit-reset-requests", "1m0s"}));
  auto third = limiter.admit(1, 2, 0, 1);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.limit, "requests");
  EXPECT_NEAR(third.retry_after_s, 29, 1e-9);
  EXPECT_TRUE(limiter.admit(2, 2, 0, 1).allowed);  // another key has its own buckets
  EXPECT_TRUE(limiter.admit(1, 0, 0, 1).allowed);  // unlimited tier
}

TEST(GatewayRateLimiter, TokensPerMinuteUseChargedUsage) {
  RateLimiter limiter;
  EXPECT_TRUE(limiter.admit(1, 0, 100, 0).allowed);
  limiter.charge_tokens(1, 100, 150, 0);
  auto v = limiter.admit(1, 0, 100, 6);  // 10 tokens refilled: still at -40
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.limit, "tokens");
  EXPECT_FALSE(limiter.admit(1, 0, 100, 30).allowed);  // back at 0: not yet
  EXPECT_TRUE(limiter.admit(1, 0, 100, 31).allowed);
}

TEST(GatewayRateLimiter, FormatsResetsAsOpenAIDoes) {
  EXPECT_EQ(format_reset(0), "0s");
  EXPECT_EQ(format_reset(0.02), "20ms");
  EXPECT_EQ(format_reset(1), "1s");
  EXPECT_EQ(format_reset(360), "6m0s");
}

}  // namespace
}  // namespace gs::gateway
