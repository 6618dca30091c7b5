#include "engine/sequence.h"

#include <algorithm>

#include "grammar/json_grammar.h"

namespace gs {
namespace {
double ms_between(Sequence::Clock::time_point a, Sequence::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

StopFilter::StopFilter(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StopFilter::push(std::string_view piece) {
  if (stopped_) return {};
  pending_.append(piece);
  size_t cut = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t at = pending_.find(s);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, cut);
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const std::string& s : stops_) {
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n) {
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopFilter::flush() {
  std::string out;
  if (!stopped_) out.swap(pending_);
  return out;
}

Sequence::Sequence(GenerationRequest r, std::shared_ptr<SequenceSink> s, const Tokenizer& t, uint64_t i)
    : id(i),
      request(std::move(r)),
      sink(std::move(s)),
      tokenizer(t),
      sampler(request.sampling, t.vocab_size()),
      detokenizer(t),
      stop_filter(request.stop),
      arrival(Clock::now()) {
  tokens = request.prompt;
  n_prompt = static_cast<int64_t>(tokens.size());
  for (TokenId token : tokens) sampler.accept(token);
  if (request.grammar) matcher = std::make_unique<JsonMatcher>(request.grammar);
}

Sequence::~Sequence() = default;

std::optional<FinishReason> Sequence::accept(TokenId token, const TokenLogprob* logprob, int64_t n_ctx) {
  const auto now = Clock::now();
  if (!first_token) first_token = now;
  const bool end_of_generation = tokenizer.is_end_of_generation(token);
  if (end_of_generation && !request.ignore_eos) {
    ++timings.predicted_n;
    sink->on_token("", logprob);
    return FinishReason::kStop;
  }
  tokens.push_back(token);
  sampler.accept(token);
  ++timings.predicted_n;
  if (matcher) matcher->advance(tokenizer.token_bytes(token));
  std::string text = stop_filter.push(detokenizer.push(token));
  sink->on_token(text, logprob);
  if (stop_filter.stopped()) return FinishReason::kStop;
  if (matcher && matcher->finished()) return FinishReason::kStop;
  if (request.max_tokens >= 0 && generated() >= request.max_tokens) return FinishReason::kLength;
  if (static_cast<int64_t>(tokens.size()) >= n_ctx) return FinishReason::kLength;
  return std::nullopt;
}

void Sequence::finish(FinishReason reason, std::string error) {
  if (finished) return;
  finished = true;
  if (reason == FinishReason::kStop || reason == FinishReason::kLength) {
    std::string rest = stop_filter.push(detokenizer.flush());
    rest += stop_filter.flush();
    if (!rest.empty()) sink->on_token(rest, nullptr);
  }
  const auto now = Clock::now();
  if (first_step) timings.queue_ms = ms_between(arrival, *first_step);
  if (first_step && first_token) timings.prompt_ms = ms_between(*first_step, *first_token);
  if (first_token) timings.predicted_ms = ms_between(*first_token, now);
  SequenceResult result{reason, std::move(error), timings};
  sink->on_finish(result);
}

}  // namespace gs
