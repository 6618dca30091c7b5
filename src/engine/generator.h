// Prompt in, streamed text out, for one sequence: evaluate the prompt in
// batches, then sample and decode one token at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "core/status.h"
#include "model/context.h"
#include "sampling/sampler.h"

namespace gs {

struct GenerateOptions {
  int64_t max_tokens = 128;  // < 0: until end of generation or context full
  SamplingParams sampling;
  bool ignore_eos = false;
};

struct GenerateStats {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double prompt_seconds = 0.0;
  double generate_seconds = 0.0;
  bool stopped_by_eos = false;
};

// Receives each piece of text as it becomes complete; return false to stop.
using TextSink = std::function<bool(std::string_view text)>;

Result<GenerateStats> generate(Context& context, const Tokenizer& tokenizer, std::span<const TokenId> prompt,
                               const GenerateOptions& options, const TextSink& sink);

}  // namespace gs
