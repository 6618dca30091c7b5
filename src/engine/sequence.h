// One generation in the scheduler: its tokens, KV blocks, sampler and the
// text it has produced, and the rules that end it (end of generation, stop
// strings, token limit, grammar complete).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace gs {

class JsonMatcher;

// Emits generated text, holding back any tail that could still become a stop
// string, and cuts the text before the first stop string.
class StopFilter {
 public:
  explicit StopFilter(std::vector<std::string> stops);
  // Adds `piece`; returns the text that is now safe to emit. Sets stopped().
  std::string push(std::string_view piece);
  // The held-back text, at the end of generation.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

struct Sequence {
  using Clock = std::chrono::steady_clock;

  Sequence(GenerationRequest request, std::shared_ptr<SequenceSink> sink, const Tokenizer& tokenizer,
           uint64_t id);
  ~Sequence();

  // Handles the token sampled from this step's logits; returns the reason the
  // sequence ended, if it did.
  std::optional<FinishReason> accept(TokenId token, const TokenLogprob* logprob, int64_t n_ctx);
  // Flushes held-back text and reports the end to the sink.
  void finish(FinishReason reason, std::string error = {});

  int64_t pending() const { return static_cast<int64_t>(tokens.size()) - n_cached; }
  int64_t generated() const { return static_cast<int64_t>(tokens.size()) - n_prompt; }

  uint64_t id;
  GenerationRequest request;
  std::shared_ptr<SequenceSink> sink;
  const Tokenizer& tokenizer;
  Sampler sampler;
  StreamingDetokenizer detokenizer;
  StopFilter stop_filter;
  std::unique_ptr<JsonMatcher> matcher;  // when request.grammar is set

  std::vector<TokenId> tokens;  // prompt, then generated tokens
  int64_t n_prompt = 0;
  int64_t n_cached = 0;         // tokens whose keys and values are in the cache
  std::vector<int32_t> blocks;  // KV blocks, in position order
  int32_t n_published = 0;      // leading blocks offered to the prefix cache

  Clock::time_point arrival;
  std::optional<Clock::time_point> first_step, first_token;
  SequenceTimings timings;
  bool finished = false;
};

}  // namespace gs
