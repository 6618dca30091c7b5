// Log-probabilities of the model's distribution (log-softmax of the raw
// logits, before penalties, temperature or constraints), as OpenAI reports.
#pragma once

#include <cstdint>

#include "engine/request.h"

namespace gs {

// The chosen token's log-probability and the `top` most likely tokens'.
TokenLogprob token_logprob(const float* logits, int32_t vocab, TokenId chosen, int32_t top);

}  // namespace gs
