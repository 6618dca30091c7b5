#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace gs {

TokenLogprob token_logprob(const float* logits, int32_t vocab, TokenId chosen, int32_t top) {
  float max = -INFINITY;
  for (int32_t i = 0; i < vocab; ++i) max = std::max(max, logits[i]);
  double sum = 0.0;
  for (int32_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - max));
  const float log_z = max + static_cast<float>(std::log(sum));
  TokenLogprob out;
  out.token = chosen;
  out.logprob = logits[chosen] - log_z;
  const int32_t k = std::min(top, vocab);
  if (k > 0) {
    std::vector<int32_t> ids(static_cast<size_t>(vocab));
    std::iota(ids.begin(), ids.end(), 0);
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int32_t a, int32_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    for (int32_t i = 0; i < k; ++i)
      out.top.emplace_back(ids[static_cast<size_t>(i)], logits[ids[static_cast<size_t>(i)]] - log_z);
  }
  return out;
}

}  // namespace gs
