// What a client asks the scheduler for (one sequence to generate) and how the
// scheduler answers: text as it is produced, then how it ended.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace gs {

class JsonGrammar;

struct GenerationRequest {
  std::vector<TokenId> prompt;
  SamplingParams sampling;
  int64_t max_tokens = -1;        // < 0: until end of generation or the context is full
  std::vector<std::string> stop;  // generation ends before the first occurrence of any
  bool ignore_eos = false;
  int32_t logprobs = -1;                       // < 0: none; k >= 0: the chosen token's and the k most likely
  std::shared_ptr<const JsonGrammar> grammar;  // constrained decoding (response_format)
  int32_t priority = 0;                        // lower runs earlier (vLLM's convention)
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct TokenLogprob {
  TokenId token = 0;
  float logprob = 0.0f;
  std::vector<std::pair<TokenId, float>> top;  // most likely first
};

enum class FinishReason { kStop, kLength, kCancelled, kTimeout, kError };

struct SequenceTimings {
  double queue_ms = 0;      // arrival to first forward pass
  double prompt_ms = 0;     // first forward pass to first token
  double predicted_ms = 0;  // first token to the end
  int64_t prompt_n = 0;     // prompt tokens evaluated (not from the prefix cache)
  int64_t cached_n = 0;     // prompt tokens reused from the prefix cache
  int64_t predicted_n = 0;  // tokens generated
  int64_t preemptions = 0;
};

struct SequenceResult {
  FinishReason reason = FinishReason::kStop;
  std::string error;  // for kError
  SequenceTimings timings;
};

// Receives one sequence's output. Called on the scheduler's thread: must not
// block (queue the bytes for the client and return).
class SequenceSink {
 public:
  virtual ~SequenceSink() = default;
  // `text` may be empty (held back: an incomplete character or a possible
  // stop string); `logprob` is null unless the request asked for logprobs.
  virtual void on_token(std::string_view text, const TokenLogprob* logprob) = 0;
  virtual void on_finish(const SequenceResult& result) = 0;
  // Polled between steps: true when the client went away.
  virtual bool cancelled() const = 0;
};

}  // namespace gs
