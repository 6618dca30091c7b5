#include "engine/generator.h"

#include <chrono>

namespace gs {
namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

Result<GenerateStats> generate(Context& context, const Tokenizer& tokenizer, std::span<const TokenId> prompt,
                               const GenerateOptions& options, const TextSink& sink) {
  if (prompt.empty()) return Error("empty prompt");
  if (context.n_past() + static_cast<int64_t>(prompt.size()) > context.n_ctx()) {
    return Error("prompt is {} tokens but the context holds {} (raise --ctx)", prompt.size(),
                 context.n_ctx() - context.n_past());
  }
  GenerateStats stats;
  stats.prompt_tokens = static_cast<int64_t>(prompt.size());
  Sampler sampler(options.sampling, tokenizer.vocab_size());
  for (TokenId t : prompt) sampler.accept(t);
  StreamingDetokenizer detok(tokenizer);

  auto start = std::chrono::steady_clock::now();
  GS_ASSIGN_OR_RETURN(const float* logits, context.eval(prompt, false));
  stats.prompt_seconds = seconds_since(start);

  start = std::chrono::steady_clock::now();
  for (int64_t i = 0; options.max_tokens < 0 || i < options.max_tokens; ++i) {
    const TokenId next = sampler.sample(logits);
    if (!options.ignore_eos && tokenizer.is_end_of_generation(next)) {
      stats.stopped_by_eos = true;
      break;
    }
    sampler.accept(next);
    ++stats.generated_tokens;
    const std::string text = detok.push(next);
    if (!text.empty() && !sink(text)) break;
    if (context.n_past() >= context.n_ctx()) break;
    GS_ASSIGN_OR_RETURN(logits, context.eval(std::span<const TokenId>(&next, 1), false));
  }
  const std::string rest = detok.flush();
  if (!rest.empty()) sink(rest);
  stats.generate_seconds = seconds_since(start);
  return stats;
}

}  // namespace gs
