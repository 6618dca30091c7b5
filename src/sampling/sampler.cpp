// The sampling chain, in llama.cpp's default order:
//
//   penalties -> top-k -> softmax -> top-p -> min-p -> temperature -> softmax -> draw
//
// top-p and min-p judge the probabilities of the untempered logits, so the
// temperature only reshapes the distribution among the survivors (raising it
// never lets a token through that the filters dropped). Temperature <= 0 skips
// the chain after the penalties and takes the argmax (ties: lowest id).
//
// sample() allocates nothing after the first call: candidates_ keeps its
// capacity, counts_ is sized once, and std::partial_sort / std::sort work in
// place.
#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gs {
namespace {

// Highest logit first; equal logits by lower id, so that every cut and the
// order of the draw are deterministic.
struct ByLogitDesc {
  template <typename C>
  bool operator()(const C& a, const C& b) const {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
};

bool penalties_active(const SamplingParams& p) {
  return p.repeat_last_n != 0 &&
         (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f);
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, int32_t vocab_size)
    : params_(params), vocab_size_(std::max(vocab_size, 0)), rng_(params.seed) {
  candidates_.reserve(static_cast<size_t>(vocab_size_));
  counts_.assign(static_cast<size_t>(vocab_size_), 0);
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= vocab_size_) return;
  // repeat_last_n < 0 keeps every token since reset(); 0 keeps none.
  if (params_.repeat_last_n == 0) return;
  recent_.push_back(token);
  if (params_.repeat_last_n > 0 && recent_.size() > static_cast<size_t>(params_.repeat_last_n)) {
    recent_.pop_front();
  }
}

void Sampler::reset() {
  recent_.clear();
  rng_.seed(params_.seed);
}

int32_t Sampler::sample(const float* logits) {
  // Greedy without penalties reads the logits as they are: no candidate list
  // (a vocabulary of 49,152 makes it 590 KB written per token).
  if (params_.temperature <= 0.0f && (!penalties_active(params_) || recent_.empty())) {
    if (vocab_size_ == 0) return 0;
    int32_t best = 0;
    for (int32_t i = 1; i < vocab_size_; ++i) {
      if (logits[i] > logits[best]) best = i;  // the lowest id among ties, as argmax()
    }
    return best;
  }
  candidates_.resize(static_cast<size_t>(vocab_size_));
  for (int32_t i = 0; i < vocab_size_; ++i) candidates_[static_cast<size_t>(i)] = {i, logits[i], 0.0f};
  sorted_ = false;
  if (candidates_.empty()) return 0;

  apply_penalties();
  if (params_.temperature <= 0.0f) return argmax();

  top_k(params_.top_k);
  softmax();
  top_p(params_.top_p);
  min_p(params_.min_p);
  for (Candidate& c : candidates_) c.logit /= params_.temperature;
  softmax();
  return draw();
}

// candidates_ is still indexed by id here. counts_ is filled from the window,
// applied, then zeroed again through the same window (cheaper than clearing
// the whole vocabulary).
void Sampler::apply_penalties() {
  if (!penalties_active(params_) || recent_.empty()) return;
  for (int32_t t : recent_) ++counts_[static_cast<size_t>(t)];
  for (int32_t t : recent_) {
    int32_t& count = counts_[static_cast<size_t>(t)];
    if (count == 0) continue;  // already applied for an earlier occurrence
    float& logit = candidates_[static_cast<size_t>(t)].logit;
    // Dividing a negative logit would raise its probability, so those are
    // multiplied instead (llama.cpp's repeat penalty).
    logit = logit > 0.0f ? logit / params_.repeat_penalty : logit * params_.repeat_penalty;
    logit -= params_.frequency_penalty * static_cast<float>(count) + params_.presence_penalty;
    count = 0;
  }
}

int32_t Sampler::argmax() const {
  size_t best = 0;
  for (size_t i = 1; i < candidates_.size(); ++i) {
    // Strictly greater keeps the lowest id among ties (candidates_ is in id order).
    if (candidates_[i].logit > candidates_[best].logit) best = i;
  }
  return candidates_[best].id;
}

void Sampler::top_k(int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= candidates_.size()) return;
  std::partial_sort(candidates_.begin(), candidates_.begin() + k, candidates_.end(), ByLogitDesc());
  candidates_.resize(static_cast<size_t>(k));
  sorted_ = true;
}

void Sampler::softmax() {
  float max_logit = -std::numeric_limits<float>::infinity();
  for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
  if (!std::isfinite(max_logit)) {
    // Everything masked to -inf (or a +inf/NaN logit): all mass on the best one.
    const Candidate* best = &candidates_[0];
    for (const Candidate& c : candidates_) {
      if (ByLogitDesc()(c, *best)) best = &c;
    }
    for (Candidate& c : candidates_) c.p = &c == best ? 1.0f : 0.0f;
    return;
  }
  double sum = 0.0;
  for (Candidate& c : candidates_) {
    c.p = std::exp(c.logit - max_logit);
    sum += c.p;
  }
  for (Candidate& c : candidates_) c.p = static_cast<float>(c.p / sum);
}

// Keeps the most likely tokens until their probabilities add up to at least p
// (the token that crosses p stays; at least one token stays).
void Sampler::top_p(float p) {
  if (p >= 1.0f || candidates_.size() <= 1) return;
  if (!sorted_) {
    std::sort(candidates_.begin(), candidates_.end(), ByLogitDesc());
    sorted_ = true;
  }
  double cumulative = 0.0;
  size_t keep = candidates_.size();
  for (size_t i = 0; i < candidates_.size(); ++i) {
    cumulative += candidates_[i].p;
    if (cumulative >= p) {
      keep = i + 1;
      break;
    }
  }
  candidates_.resize(keep);
}

// Drops tokens less likely than min_p times the most likely one. The ratio is
// the same before and after renormalisation, so the probabilities left by
// top-p are used as they are.
void Sampler::min_p(float p) {
  if (p <= 0.0f || candidates_.size() <= 1) return;
  float p_max = 0.0f;
  for (const Candidate& c : candidates_) p_max = std::max(p_max, c.p);
  const float threshold = std::min(p, 1.0f) * p_max;
  // remove_if is stable, so a sorted list stays sorted; the most likely token
  // always passes (threshold <= p_max).
  auto end = std::remove_if(candidates_.begin(), candidates_.end(),
                            [threshold](const Candidate& c) { return c.p < threshold; });
  candidates_.erase(end, candidates_.end());
}

// Inverse-CDF draw with a 53-bit uniform taken straight from the generator,
// so that a seed gives the same tokens with every standard library.
int32_t Sampler::draw() {
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  double total = 0.0;
  for (const Candidate& c : candidates_) total += c.p;
  const double target = u * total;
  double cumulative = 0.0;
  for (const Candidate& c : candidates_) {
    cumulative += c.p;
    if (target < cumulative) return c.id;
  }
  // Rounding left the target at the very top: the last token with mass.
  for (auto it = candidates_.rbegin(); it != candidates_.rend(); ++it) {
    if (it->p > 0.0f) return it->id;
  }
  return candidates_.front().id;
}

}  // namespace gs
