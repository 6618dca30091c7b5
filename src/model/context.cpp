#include "model/context.h"

#include <algorithm>
#include <cmath>

#include "tensor/ops.h"
#include "tensor/quants.h"

namespace gs {

Result<std::unique_ptr<Context>> Context::create(const Model& model, const ContextOptions& options,
                                                 ThreadPool& pool) {
  const ModelConfig& c = model.config();
  if (options.kv_type != GgmlType::F16 && options.kv_type != GgmlType::F32 &&
      options.kv_type != GgmlType::Q8_0) {
    return Error("unsupported KV cache type '{}' (use f16, q8_0 or f32)", traits(options.kv_type).name);
  }
  if (options.kv_type == GgmlType::Q8_0 && c.head_dim % kQK != 0) {
    return Error("a q8_0 KV cache needs a head size divisible by 32 (this model has {})", c.head_dim);
  }
  if (options.n_ctx < 0 || options.n_ctx > (1 << 20)) return Error("context size {} out of range", options.n_ctx);
  if (options.n_batch <= 0) return Error("batch size must be positive");
  return std::unique_ptr<Context>(new Context(model, options, pool));
}

Context::Context(const Model& model, const ContextOptions& options, ThreadPool& pool)
    : model_(model), cfg_(model.config()), pool_(pool), kv_type_(options.kv_type) {
  n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(cfg_.n_ctx_train, 4096);
  n_batch_ = std::min(options.n_batch, n_ctx_);
  const int64_t kv_dim = cfg_.n_head_kv * cfg_.head_dim;
  kv_row_bytes_ = row_bytes(kv_type_, kv_dim);
  const size_t cache_bytes = kv_row_bytes_ * static_cast<size_t>(n_ctx_ * cfg_.n_layer);
  k_cache_.resize(cache_bytes);
  v_cache_.resize(cache_bytes);

  // Angle per position of each rotated pair: base^(-2i/d), divided by the
  // model's per-pair factors (Llama 3.1+), scaled for linear RoPE scaling.
  const auto& factors = model.rope_freq_factors();
  for (int64_t i = 0; i < cfg_.rope_dim / 2; ++i) {
    float f = cfg_.rope_freq_scale *
              std::pow(cfg_.rope_freq_base, -2.0f * static_cast<float>(i) / static_cast<float>(cfg_.rope_dim));
    if (!factors.empty()) f /= factors[static_cast<size_t>(i)];
    inv_freq_.push_back(f);
  }
  attn_scratch_.resize(attend_scratch_floats(cfg_.n_head / cfg_.n_head_kv, n_ctx_, cfg_.head_dim) *
                       static_cast<size_t>(pool.size()));
}

void Context::ensure_buffers(int64_t n) {
  if (n <= buffer_tokens_) return;
  buffer_tokens_ = n;
  const auto sz = [n](int64_t width) { return static_cast<size_t>(n * width); };
  const int64_t q_dim = cfg_.n_head * cfg_.head_dim, kv_dim = cfg_.n_head_kv * cfg_.head_dim;
  x_.resize(sz(cfg_.n_embd));
  xn_.resize(sz(std::max(cfg_.n_embd, q_dim)));
  q_.resize(sz(q_dim));
  k_.resize(sz(kv_dim));
  v_.resize(sz(kv_dim));
  attn_.resize(sz(q_dim));
  gate_.resize(sz(cfg_.n_ff));
  up_.resize(sz(cfg_.n_ff));
}

Result<const float*> Context::eval(std::span<const TokenId> tokens, bool all_logits) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return Error("nothing to evaluate");
  if (n_past_ + n > n_ctx_) {
    return Error("context is full: {} tokens cached + {} new > context size {}", n_past_, n, n_ctx_);
  }
  for (TokenId t : tokens) {
    if (t < 0 || t >= cfg_.n_vocab) return Error("token id {} out of range [0, {})", t, cfg_.n_vocab);
  }
  const size_t vocab = static_cast<size_t>(cfg_.n_vocab);
  logits_.resize(all_logits ? vocab * tokens.size() : vocab);
  for (int64_t start = 0; start < n; start += n_batch_) {
    const int64_t count = std::min(n_batch_, n - start);
    const bool last_chunk = start + count == n;
    float* out = all_logits ? logits_.data() + static_cast<size_t>(start) * vocab : logits_.data();
    // Logits are only computed when wanted: every row, or the final token's.
    forward_batch(tokens.data() + start, count, all_logits, (all_logits || last_chunk) ? out : nullptr);
  }
  return static_cast<const float*>(logits_.data());
}

void Context::forward_batch(const TokenId* tokens, int64_t n, bool all_logits, float* logits) {
  ensure_buffers(n);
  const int64_t E = cfg_.n_embd;
  for (int64_t t = 0; t < n; ++t) get_row(model_.token_embedding(), tokens[t], &x_[static_cast<size_t>(t * E)]);

  const auto& layers = model_.layers();
  for (size_t il = 0; il < layers.size(); ++il) {
    const LayerWeights& L = layers[il];
    pool_.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) rms_norm(&x_[t * E], L.attn_norm.data(), &xn_[t * E], E, cfg_.rms_eps);
    });
    matmul(L.wq, xn_.data(), n, q_.data(), pool_, scratch_);
    matmul(L.wk, xn_.data(), n, k_.data(), pool_, scratch_);
    matmul(L.wv, xn_.data(), n, v_.data(), pool_, scratch_);
    attention_layer(il, n);
    matmul(L.wo, attn_.data(), n, xn_.data(), pool_, scratch_);
    pool_.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        add(&x_[t * E], &xn_[t * E], E);
        rms_norm(&x_[t * E], L.ffn_norm.data(), &xn_[t * E], E, cfg_.rms_eps);
      }
    });
    matmul(L.w_gate, xn_.data(), n, gate_.data(), pool_, scratch_);
    matmul(L.w_up, xn_.data(), n, up_.data(), pool_, scratch_);
    pool_.parallel_for(n, [&](int64_t b, int64_t e) {
      silu_mul(&gate_[b * cfg_.n_ff], &up_[b * cfg_.n_ff], (e - b) * cfg_.n_ff);
    });
    matmul(L.w_down, gate_.data(), n, xn_.data(), pool_, scratch_);
    pool_.parallel_for(n, [&](int64_t b, int64_t e) { add(&x_[b * E], &xn_[b * E], (e - b) * E); });
  }
  n_past_ += n;
  if (!logits) return;

  // Only the rows whose logits are wanted go through the output matrix.
  const int64_t first = all_logits ? 0 : n - 1;
  const int64_t rows = n - first;
  for (int64_t t = first; t < n; ++t) {
    rms_norm(&x_[t * E], model_.output_norm().data(), &xn_[(t - first) * E], E, cfg_.rms_eps);
  }
  matmul(model_.output(), xn_.data(), rows, logits, pool_, scratch_);
}

void Context::attention_layer(size_t layer, int64_t n) {
  const LayerWeights& L = model_.layers()[layer];
  const int64_t hd = cfg_.head_dim, q_dim = cfg_.n_head * hd, kv_dim = cfg_.n_head_kv * hd;
  const RopePairing pairing = cfg_.rope_style == RopeStyle::kNeox ? RopePairing::kHalves : RopePairing::kAdjacent;
  pool_.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      float* q = &q_[t * q_dim];
      float* k = &k_[t * kv_dim];
      if (!L.bias_q.empty()) {
        add(q, L.bias_q.data(), q_dim);
        add(k, L.bias_k.data(), kv_dim);
        add(&v_[t * kv_dim], L.bias_v.data(), kv_dim);
      }
      const float pos = static_cast<float>(n_past_ + t);
      rope(q, cfg_.n_head, hd, cfg_.rope_dim, pos, inv_freq_.data(), pairing);
      rope(k, cfg_.n_head_kv, hd, cfg_.rope_dim, pos, inv_freq_.data(), pairing);
    }
  });
  store_kv(layer, n);

  const size_t layer_offset = layer * kv_row_bytes_ * static_cast<size_t>(n_ctx_);
  const int64_t group = cfg_.n_head / cfg_.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const KvBlock cache{k_cache_.data() + layer_offset, v_cache_.data() + layer_offset};
  const size_t per_thread = attend_scratch_floats(group, n_ctx_, hd);
  // Work items are (token, kv head) pairs: the `group` query heads of a kv
  // head are adjacent in q and read its cached rows together. Token t sees
  // positions [0, n_past + t].
  pool_.run([&](int ith, int nth) {
    float* scratch = &attn_scratch_[static_cast<size_t>(ith) * per_thread];
    for (int64_t item = ith; item < n * cfg_.n_head_kv; item += nth) {
      const int64_t t = item / cfg_.n_head_kv, g = item % cfg_.n_head_kv;
      const KvLayout kv{kv_type_, kv_row_bytes_, g * hd, n_ctx_, std::span<const KvBlock>(&cache, 1)};
      const int64_t at = t * q_dim + g * group * hd;
      attend_group(&q_[at], group, kv, hd, n_past_ + t + 1, scale, scratch, &attn_[at]);
    }
  });
}

void Context::store_kv(size_t layer, int64_t n) {
  const int64_t kv_dim = cfg_.n_head_kv * cfg_.head_dim;
  const size_t base = (layer * static_cast<size_t>(n_ctx_) + static_cast<size_t>(n_past_)) * kv_row_bytes_;
  pool_.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      store_kv_row(kv_type_, &k_[t * kv_dim], &k_cache_[base + t * kv_row_bytes_], kv_dim);
      store_kv_row(kv_type_, &v_[t * kv_dim], &v_cache_[base + t * kv_row_bytes_], kv_dim);
    }
  });
}

}  // namespace gs
