#include "model/context.h"

#include <algorithm>

namespace gs {

Result<std::unique_ptr<Context>> Context::create(const Model& model, const ContextOptions& options,
                                                 ThreadPool& pool) {
  const ModelConfig& c = model.config();
  if (options.n_ctx < 0 || options.n_ctx > (1 << 20))
    return Error("context size {} out of range", options.n_ctx);
  if (options.n_batch <= 0) return Error("batch size must be positive");
  std::unique_ptr<Context> context(new Context());
  context->model_ = &model;
  context->n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(c.n_ctx_train, 4096);
  context->n_batch_ = std::min(options.n_batch, context->n_ctx_);
  GS_ASSIGN_OR_RETURN(context->cache_,
                      KvCache::create(c, KvCacheOptions{1, context->n_ctx_, options.kv_type}));
  context->forward_ = std::make_unique<Forward>(model, *context->cache_, pool, context->n_ctx_);
  return context;
}

Result<const float*> Context::eval(std::span<const TokenId> tokens, bool all_logits) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return Error("nothing to evaluate");
  if (n_past_ + n > n_ctx_) {
    return Error("context is full: {} tokens cached + {} new > context size {}", n_past_, n, n_ctx_);
  }
  const size_t vocab = static_cast<size_t>(model_->config().n_vocab);
  const int32_t block = 0;
  const float* last = nullptr;
  if (all_logits) logits_.resize(vocab * tokens.size());
  for (int64_t start = 0; start < n; start += n_batch_) {
    const int64_t count = std::min(n_batch_, n - start);
    const bool last_chunk = start + count == n;
    // Logits are only computed when wanted: every row, or the final token's.
    const auto wanted = all_logits   ? SequenceBatch::Logits::kAll
                        : last_chunk ? SequenceBatch::Logits::kLast
                                     : SequenceBatch::Logits::kNone;
    const SequenceBatch seq{tokens.subspan(static_cast<size_t>(start), static_cast<size_t>(count)), n_past_,
                            std::span<const int32_t>(&block, 1), wanted};
    GS_ASSIGN_OR_RETURN(last, forward_->eval(std::span<const SequenceBatch>(&seq, 1)));
    n_past_ += count;
    if (all_logits) std::copy_n(last, vocab * static_cast<size_t>(count), logits_.data() + vocab * start);
  }
  return all_logits ? static_cast<const float*>(logits_.data()) : last;
}

}  // namespace gs
