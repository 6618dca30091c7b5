// The transformer forward pass over a batch that mixes sequences: every new
// token of every sequence goes through each weight matrix together (one read
// of the weights serves the whole batch), and each token attends over its own
// sequence's cached positions in the shared block KV cache.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "tensor/matmul.h"

namespace gs {

// New tokens of one sequence, at positions n_past, n_past + 1, ...
struct SequenceBatch {
  std::span<const TokenId> tokens;
  int64_t n_past = 0;
  // Block indices of the sequence in position order; they must cover
  // positions [0, n_past + tokens.size()).
  std::span<const int32_t> blocks;
  // Logits wanted: none, the last token's row, or one row per token.
  enum class Logits { kNone, kLast, kAll } logits = Logits::kLast;
};

class Forward {
 public:
  // max_positions: the longest sequence any batch will hold (sizes scratch).
  Forward(const Model& model, KvCache& cache, ThreadPool& pool, int64_t max_positions);

  // Writes the new tokens' keys and values into the cache and returns the
  // wanted logits rows, sequence by sequence, n_vocab floats each. Valid until
  // the next call.
  Result<const float*> eval(std::span<const SequenceBatch> batch);

 private:
  void ensure_buffers(int64_t n_tokens);
  void layer(size_t il);
  void rope_and_store(size_t il);
  void attention(size_t il);
  void logits_rows(float* out);

  const Model& model_;
  const ModelConfig& cfg_;
  KvCache& cache_;
  ThreadPool& pool_;
  int64_t max_positions_;
  std::vector<float> inv_freq_;
  std::vector<float> rope_cos_, rope_sin_;  // per token of the batch, rope_dim / 2 each

  // Per token of the current batch: its sequence and position.
  std::span<const SequenceBatch> batch_;
  std::vector<int32_t> token_seq_;
  std::vector<int64_t> token_pos_;
  std::vector<int64_t> logit_tokens_;  // which tokens' logits are wanted
  int64_t n_tokens_ = 0;

  int64_t buffer_tokens_ = 0;
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_, logits_;
  std::vector<float> scratch_;  // attention scratch, per thread
  size_t scratch_per_thread_ = 0;
  std::vector<std::vector<KvBlock>> seq_blocks_;  // per sequence, for the current layer
  MatmulScratch matmul_scratch_;
};

}  // namespace gs
