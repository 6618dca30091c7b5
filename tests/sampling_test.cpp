#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "sampling/sampler.h"

namespace gs {
namespace {

SamplingParams greedy_params() {
  SamplingParams p;
  p.temperature = 0.0f;
  return p;
}

// All filters off, temperature 1: draws follow softmax(logits).
SamplingParams plain_params(uint64_t seed = 1234) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

std::vector<float> log_probs(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (double p : probs) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

// Relative frequency of each id over `n` draws.
std::map<int32_t, double> frequencies(Sampler& sampler, const std::vector<float>& logits, int n) {
  std::map<int32_t, double> freq;
  for (int i = 0; i < n; ++i) freq[sampler.sample(logits.data())] += 1.0 / n;
  return freq;
}

std::vector<float> random_logits(int32_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> logits(static_cast<size_t>(n));
  for (float& x : logits) x = dist(gen);
  return logits;
}

TEST(Sampler, GreedyPicksArgmax) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = random_logits(1000, seed);
    Sampler sampler(greedy_params(), 1000);
    const auto expected = std::max_element(logits.begin(), logits.end()) - logits.begin();
    EXPECT_EQ(sampler.sample(logits.data()), expected);
  }
}

TEST(Sampler, GreedyTiesGoToLowestId) {
  std::vector<float> logits = {1.0f, 5.0f, 2.0f, 5.0f, 5.0f};
  Sampler sampler(greedy_params(), 5);
  EXPECT_EQ(sampler.sample(logits.data()), 1);
}

TEST(Sampler, NegativeTemperatureIsGreedy) {
  SamplingParams p = plain_params();
  p.temperature = -1.0f;
  std::vector<float> logits = {0.0f, 0.1f, 0.05f};
  Sampler sampler(p, 3);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sampler.sample(logits.data()), 1);
}

TEST(Sampler, SameSeedSameTokens) {
  std::vector<float> logits = random_logits(500, 7);
  for (float& x : logits) x *= 0.2f;  // flat enough that many ids come up
  SamplingParams p = plain_params(42);
  p.top_k = 100;
  p.top_p = 0.9f;
  Sampler a(p, 500), b(p, 500);
  std::vector<int32_t> first, second;
  for (int i = 0; i < 200; ++i) {
    first.push_back(a.sample(logits.data()));
    second.push_back(b.sample(logits.data()));
  }
  EXPECT_EQ(first, second);
  std::map<int32_t, int> distinct;
  for (int32_t t : first) ++distinct[t];
  EXPECT_GT(distinct.size(), 10u);

  // reset() reseeds: the same sequence again.
  a.reset();
  std::vector<int32_t> again;
  for (int i = 0; i < 200; ++i) again.push_back(a.sample(logits.data()));
  EXPECT_EQ(first, again);

  p.seed = 43;
  Sampler c(p, 500);
  std::vector<int32_t> other;
  for (int i = 0; i < 200; ++i) other.push_back(c.sample(logits.data()));
  EXPECT_NE(first, other);
}

TEST(Sampler, TopKOneEqualsGreedy) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = random_logits(300, seed);
    logits[17] = logits[250] = 100.0f;  // a tie: the lower id wins, as in greedy
    SamplingParams p = plain_params(seed);
    p.top_k = 1;
    p.temperature = 1.5f;
    Sampler sampler(p, 300), greedy(greedy_params(), 300);
    EXPECT_EQ(sampler.sample(logits.data()), greedy.sample(logits.data()));
    EXPECT_EQ(sampler.sample(logits.data()), 17);
  }
}

TEST(Sampler, TopKKeepsOnlyTheKMostLikely) {
  SamplingParams p = plain_params(5);
  p.top_k = 2;
  std::vector<float> logits = log_probs({0.1, 0.4, 0.2, 0.3});
  Sampler sampler(p, 4);
  auto freq = frequencies(sampler, logits, 20000);
  EXPECT_EQ(freq.size(), 2u);
  EXPECT_NEAR(freq[1], 0.4 / 0.7, 0.02);
  EXPECT_NEAR(freq[3], 0.3 / 0.7, 0.02);
}

TEST(Sampler, UnfilteredDrawsFollowSoftmax) {
  std::vector<double> probs = {0.05, 0.5, 0.15, 0.3};
  Sampler sampler(plain_params(9), 4);
  auto freq = frequencies(sampler, log_probs(probs), 40000);
  for (int32_t i = 0; i < 4; ++i) EXPECT_NEAR(freq[i], probs[static_cast<size_t>(i)], 0.015) << i;
}

TEST(Sampler, TopPKeepsSmallestSetReachingP) {
  // Sorted: 0.5 (id 2), 0.3 (id 0), 0.15 (id 3), 0.05 (id 1).
  std::vector<float> logits = log_probs({0.3, 0.05, 0.5, 0.15});
  SamplingParams p = plain_params(11);
  p.top_p = 0.7f;  // 0.5 < 0.7 <= 0.8: ids 2 and 0
  Sampler sampler(p, 4);
  auto freq = frequencies(sampler, logits, 20000);
  EXPECT_EQ(freq.size(), 2u);
  EXPECT_NEAR(freq[2], 0.5 / 0.8, 0.02);
  EXPECT_NEAR(freq[0], 0.3 / 0.8, 0.02);

  p.top_p = 0.9f;  // 0.8 < 0.9 <= 0.95: three ids
  Sampler wider(p, 4);
  freq = frequencies(wider, logits, 20000);
  EXPECT_EQ(freq.size(), 3u);
  EXPECT_EQ(freq.count(1), 0u);
  EXPECT_NEAR(freq[3], 0.15 / 0.95, 0.02);

  p.top_p = 0.0f;  // at least one token always stays
  Sampler narrow(p, 4);
  freq = frequencies(narrow, logits, 1000);
  EXPECT_EQ(freq.size(), 1u);
  EXPECT_EQ(freq.count(2), 1u);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  std::vector<float> logits = log_probs({0.5, 0.3, 0.15, 0.05});
  SamplingParams p = plain_params(13);
  p.min_p = 0.25f;  // threshold 0.125: 0.05 goes, 0.15 stays
  Sampler sampler(p, 4);
  auto freq = frequencies(sampler, logits, 20000);
  EXPECT_EQ(freq.size(), 3u);
  EXPECT_EQ(freq.count(3), 0u);
  EXPECT_NEAR(freq[0], 0.5 / 0.95, 0.02);
  EXPECT_NEAR(freq[2], 0.15 / 0.95, 0.02);

  p.min_p = 0.5f;  // threshold 0.25: ids 0 and 1
  Sampler tighter(p, 4);
  freq = frequencies(tighter, logits, 20000);
  EXPECT_EQ(freq.size(), 2u);
  EXPECT_NEAR(freq[1], 0.3 / 0.8, 0.02);
}

TEST(Sampler, TemperatureReshapesSurvivorsOnly) {
  // min-p judges the untempered distribution: with T = 0.5 the survivors'
  // probabilities become p^2 / sum, and a high T does not revive id 3.
  std::vector<float> logits = log_probs({0.5, 0.3, 0.15, 0.05});
  SamplingParams p = plain_params(17);
  p.min_p = 0.25f;
  p.temperature = 0.5f;
  Sampler cold(p, 4);
  auto freq = frequencies(cold, logits, 40000);
  const double z = 0.25 + 0.09 + 0.0225;
  EXPECT_NEAR(freq[0], 0.25 / z, 0.015);
  EXPECT_NEAR(freq[1], 0.09 / z, 0.015);
  EXPECT_NEAR(freq[2], 0.0225 / z, 0.01);

  p.temperature = 100.0f;
  Sampler hot(p, 4);
  freq = frequencies(hot, logits, 20000);
  EXPECT_EQ(freq.count(3), 0u);
  for (int32_t i = 0; i < 3; ++i) EXPECT_NEAR(freq[i], 1.0 / 3, 0.02);
}

TEST(Sampler, MaskedLogitsNeverDrawn) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> logits = {-inf, 0.0f, -inf, 0.0f};
  Sampler sampler(plain_params(19), 4);
  auto freq = frequencies(sampler, logits, 2000);
  EXPECT_EQ(freq.size(), 2u);
  EXPECT_EQ(freq.count(0) + freq.count(2), 0u);

  std::vector<float> all_masked = {-inf, -inf, -inf};
  Sampler masked(plain_params(19), 3);
  EXPECT_EQ(masked.sample(all_masked.data()), 0);
}

TEST(Sampler, RepeatPenaltyDividesPositiveMultipliesNegative) {
  SamplingParams p = greedy_params();
  p.repeat_penalty = 2.0f;
  {
    std::vector<float> logits = {2.0f, 1.5f, 0.0f};
    Sampler sampler(p, 3);
    EXPECT_EQ(sampler.sample(logits.data()), 0);
    sampler.accept(0);  // 2.0 / 2 = 1.0 < 1.5
    EXPECT_EQ(sampler.sample(logits.data()), 1);
  }
  {
    std::vector<float> logits = {-1.0f, -1.5f};
    Sampler sampler(p, 2);
    sampler.accept(0);  // -1.0 * 2 = -2.0 < -1.5 (dividing would have raised it)
    EXPECT_EQ(sampler.sample(logits.data()), 1);
  }
  {
    // Exact boundary: 3.0 / 1.5 = 2.0 ties with id 0's 2.0 -> lowest id.
    std::vector<float> logits = {2.0f, 3.0f};
    p.repeat_penalty = 1.5f;
    Sampler sampler(p, 2);
    sampler.accept(1);
    sampler.accept(1);  // applied once, not per occurrence
    EXPECT_EQ(sampler.sample(logits.data()), 0);
    p.repeat_penalty = 1.49f;
    Sampler weaker(p, 2);
    weaker.accept(1);
    EXPECT_EQ(weaker.sample(logits.data()), 1);
  }
}

TEST(Sampler, FrequencyPenaltyScalesWithCount) {
  SamplingParams p = greedy_params();
  std::vector<float> logits = {3.0f, 1.0f};
  p.frequency_penalty = 1.0f;  // 3 - 2 * 1.0 = 1.0: a tie, id 0 wins
  Sampler tie(p, 2);
  tie.accept(0);
  tie.accept(0);
  EXPECT_EQ(tie.sample(logits.data()), 0);
  p.frequency_penalty = 1.01f;  // 3 - 2.02 < 1
  Sampler more(p, 2);
  more.accept(0);
  more.accept(0);
  EXPECT_EQ(more.sample(logits.data()), 1);
  Sampler once(p, 2);  // one occurrence: 3 - 1.01 > 1
  once.accept(0);
  EXPECT_EQ(once.sample(logits.data()), 0);
}

TEST(Sampler, PresencePenaltyIsFlat) {
  SamplingParams p = greedy_params();
  std::vector<float> logits = {3.0f, 1.0f};
  p.presence_penalty = 2.0f;  // 3 - 2 = 1: tie, id 0 whatever the count
  Sampler sampler(p, 2);
  for (int i = 0; i < 5; ++i) sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits.data()), 0);
  p.presence_penalty = 2.01f;
  Sampler more(p, 2);
  more.accept(0);
  EXPECT_EQ(more.sample(logits.data()), 1);
}

TEST(Sampler, PenaltiesCombineInLlamaCppOrder) {
  // repeat first, then frequency and presence: 4 / 2 - (0.5 * 2 + 0.5) = 0.5.
  SamplingParams p = greedy_params();
  p.repeat_penalty = 2.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.5f;
  std::vector<float> at = {4.0f, 0.5f}, below = {4.0f, 0.51f};
  Sampler sampler(p, 2);
  sampler.accept(0);
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(at.data()), 0);
  EXPECT_EQ(sampler.sample(below.data()), 1);
}

TEST(Sampler, PenaltyWindowIsLastN) {
  SamplingParams p = greedy_params();
  p.repeat_penalty = 4.0f;
  p.repeat_last_n = 2;
  std::vector<float> logits = {2.0f, 1.0f, 0.5f};
  Sampler sampler(p, 3);
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits.data()), 1);  // 0 penalised to 0.5
  sampler.accept(2);
  sampler.accept(2);  // 0 has left the window
  EXPECT_EQ(sampler.sample(logits.data()), 0);

  p.repeat_last_n = 0;  // off
  Sampler off(p, 3);
  off.accept(0);
  EXPECT_EQ(off.sample(logits.data()), 0);

  sampler.reset();  // forgets the window
  sampler.accept(1);
  sampler.accept(2);
  EXPECT_EQ(sampler.sample(logits.data()), 0);
}

TEST(Sampler, PenaltiesDoNotLeakBetweenCalls) {
  SamplingParams p = greedy_params();
  p.frequency_penalty = 1.5f;
  std::vector<float> logits = {3.0f, 1.0f};
  Sampler sampler(p, 2);
  sampler.accept(0);  // 3 - 1.5 = 1.5 > 1, every time (the counts are not cumulative)
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sampler.sample(logits.data()), 0);
}

TEST(Sampler, OutOfRangeAcceptIgnored) {
  SamplingParams p = greedy_params();
  p.repeat_penalty = 2.0f;
  std::vector<float> logits = {1.0f, 0.0f};
  Sampler sampler(p, 2);
  sampler.accept(-1);
  sampler.accept(2);
  sampler.accept(1 << 30);
  EXPECT_EQ(sampler.sample(logits.data()), 0);
}

TEST(Sampler, LogitsNotModified) {
  std::vector<float> logits = random_logits(64, 3);
  const std::vector<float> copy = logits;
  SamplingParams p = plain_params();
  p.repeat_penalty = 1.3f;
  p.top_k = 10;
  Sampler sampler(p, 64);
  for (int i = 0; i < 10; ++i) sampler.accept(sampler.sample(logits.data()));
  EXPECT_EQ(logits, copy);
}

}  // namespace
}  // namespace gs
