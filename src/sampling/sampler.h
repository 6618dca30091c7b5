// Picks the next token from logits: penalties, then top-k / top-p / min-p
// filtering, temperature and a seeded draw. Temperature <= 0 is greedy.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace gs {

struct SamplingParams {
  float temperature = 0.8f;
  int32_t top_k = 40;           // <= 0: off
  float top_p = 0.95f;          // >= 1: off
  float min_p = 0.05f;          // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off (llama.cpp's repeat penalty)
  int32_t repeat_last_n = 64;   // window for all penalties (0: off, < 0: all since reset)
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0xFFFFFFFF;  // same seed, same output
};

class Sampler {
 public:
  Sampler(const SamplingParams& params, int32_t vocab_size);

  // Chooses a token from `logits` (vocab_size values; not modified).
  int32_t sample(const float* logits);
  // Records a token of the context (prompt or generated) for the penalties.
  // Ids outside [0, vocab_size) are ignored.
  void accept(int32_t token);
  // Forgets the accepted tokens and reseeds the generator with params.seed,
  // so that the same calls after reset() give the same tokens again.
  void reset();

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  void apply_penalties();
  int32_t argmax() const;
  void top_k(int32_t k);
  void softmax();
  void top_p(float p);
  void min_p(float p);
  int32_t draw();

  SamplingParams params_;
  int32_t vocab_size_;
  std::mt19937_64 rng_;
  std::deque<int32_t> recent_;
  std::vector<Candidate> candidates_;  // reused between calls
  std::vector<int32_t> counts_;        // per-id count in the window; zero between calls
  bool sorted_ = false;                // candidates_ ordered by logit, highest first
};

}  // namespace gs
