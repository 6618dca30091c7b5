// One sequence being evaluated: its KV cache, position and work buffers.
// eval() runs the forward pass over a batch of new tokens.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "model/model.h"
#include "tensor/matmul.h"

namespace gs {

struct ContextOptions {
  int64_t n_ctx = 0;       // 0: the model's training context, capped at 4096
  int64_t n_batch = 512;   // tokens per forward pass when evaluating a prompt
  GgmlType kv_type = GgmlType::F16;  // F16 (default), Q8_0 or F32
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> create(const Model& model, const ContextOptions& options,
                                                 ThreadPool& pool);

  // Appends `tokens` at positions n_past().. and returns their logits: one
  // row of n_vocab floats per token when all_logits, else only the last
  // token's row. The pointer is valid until the next eval().
  Result<const float*> eval(std::span<const TokenId> tokens, bool all_logits);

  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return n_ctx_; }
  // Forgets every position from `n` on (keeps the first n cached tokens).
  void truncate(int64_t n) { n_past_ = n < n_past_ ? n : n_past_; }
  // Bytes of KV cache allocated.
  uint64_t kv_bytes() const { return static_cast<uint64_t>(k_cache_.size() + v_cache_.size()); }

 private:
  Context(const Model& model, const ContextOptions& options, ThreadPool& pool);
  void forward_batch(const TokenId* tokens, int64_t n_tokens, bool all_logits, float* logits);
  void attention_layer(size_t layer, int64_t n_tokens);
  void store_kv(size_t layer, int64_t n_tokens);
  void ensure_buffers(int64_t n_tokens);

  const Model& model_;
  const ModelConfig& cfg_;
  ThreadPool& pool_;
  int64_t n_ctx_ = 0;
  int64_t n_batch_ = 512;
  int64_t n_past_ = 0;

  GgmlType kv_type_;
  size_t kv_row_bytes_ = 0;  // one position of one layer
  std::vector<uint8_t> k_cache_, v_cache_;  // [layer][position][kv_dim]

  std::vector<float> inv_freq_;
  int64_t buffer_tokens_ = 0;
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_, logits_;
  std::vector<float> attn_scratch_;  // per thread: attend_scratch_floats() floats
  MatmulScratch scratch_;
};

}  // namespace gs
