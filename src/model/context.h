// One sequence being evaluated: its KV cache and position. eval() runs the
// forward pass over a batch of new tokens. (The server's scheduler drives
// Forward directly with many sequences over a shared block cache.)
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "core/thread_pool.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace gs {

struct ContextOptions {
  int64_t n_ctx = 0;                 // 0: the model's training context, capped at 4096
  int64_t n_batch = 512;             // tokens per forward pass when evaluating a prompt
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
  uint64_t kv_bytes() const { return cache_->bytes(); }

 private:
  Context() = default;

  const Model* model_ = nullptr;
  int64_t n_ctx_ = 0;
  int64_t n_batch_ = 512;
  int64_t n_past_ = 0;
  std::unique_ptr<KvCache> cache_;  // one block holding the whole context
  std::unique_ptr<Forward> forward_;
  std::vector<float> logits_;
};

}  // namespace gs
