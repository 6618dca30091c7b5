#include "model/forward.h"

#include <algorithm>
#include <cmath>

#include "tensor/ops.h"

namespace gs {

Forward::Forward(const Model& model, KvCache& cache, ThreadPool& pool, int64_t max_positions)
    : model_(model), cfg_(model.config()), cache_(cache), pool_(pool), max_positions_(max_positions) {
  // Angle per position of each rotated pair: base^(-2i/d), divided by the
  // model's per-pair factors (Llama 3.1+), scaled for linear RoPE scaling.
  const auto& factors = model.rope_freq_factors();
  for (int64_t i = 0; i < cfg_.rope_dim / 2; ++i) {
    float f = cfg_.rope_freq_scale * std::pow(cfg_.rope_freq_base, -2.0f * static_cast<float>(i) /
                                                                       static_cast<float>(cfg_.rope_dim));
    if (!factors.empty()) f /= factors[static_cast<size_t>(i)];
    inv_freq_.push_back(f);
  }
  const int64_t group = cfg_.n_head / cfg_.n_head_kv;
  scratch_per_thread_ = attend_scratch_floats(group, max_positions_, cfg_.head_dim);
  scratch_.resize(scratch_per_thread_ * static_cast<size_t>(pool.size()));
}

void Forward::ensure_buffers(int64_t n) {
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

Result<const float*> Forward::eval(std::span<const SequenceBatch> batch) {
  token_seq_.clear();
  token_pos_.clear();
  logit_tokens_.clear();
  const int64_t br = cache_.block_rows();
  for (size_t s = 0; s < batch.size(); ++s) {
    const SequenceBatch& seq = batch[s];
    const int64_t n = static_cast<int64_t>(seq.tokens.size());
    const int64_t end = seq.n_past + n;
    if (end > max_positions_)
      return Error("sequence of {} positions exceeds the context ({})", end, max_positions_);
    if (static_cast<int64_t>(seq.blocks.size()) * br < end) {
      return Error("sequence has {} KV blocks for {} positions", seq.blocks.size(), end);
    }
    for (int32_t b : seq.blocks) {
      if (b < 0 || b >= cache_.n_blocks()) return Error("KV block {} out of range", b);
    }
    for (int64_t i = 0; i < n; ++i) {
      const TokenId t = seq.tokens[static_cast<size_t>(i)];
      if (t < 0 || t >= cfg_.n_vocab) return Error("token id {} out of range [0, {})", t, cfg_.n_vocab);
      const int64_t index = static_cast<int64_t>(token_seq_.size());
      token_seq_.push_back(static_cast<int32_t>(s));
      token_pos_.push_back(seq.n_past + i);
      if (seq.logits == SequenceBatch::Logits::kAll ||
          (seq.logits == SequenceBatch::Logits::kLast && i == n - 1)) {
        logit_tokens_.push_back(index);
      }
    }
  }
  n_tokens_ = static_cast<int64_t>(token_seq_.size());
  if (n_tokens_ == 0) return Error("nothing to evaluate");
  batch_ = batch;
  ensure_buffers(n_tokens_);

  const int64_t E = cfg_.n_embd;
  for (int64_t t = 0; t < n_tokens_; ++t) {
    const SequenceBatch& seq = batch[static_cast<size_t>(token_seq_[static_cast<size_t>(t)])];
    get_row(model_.token_embedding(),
            seq.tokens[static_cast<size_t>(token_pos_[static_cast<size_t>(t)] - seq.n_past)],
            &x_[static_cast<size_t>(t * E)]);
  }
  const int64_t half = cfg_.rope_dim / 2;
  rope_cos_.resize(static_cast<size_t>(n_tokens_ * half));
  rope_sin_.resize(static_cast<size_t>(n_tokens_ * half));
  for (int64_t t = 0; t < n_tokens_; ++t) {
    rope_angles(static_cast<float>(token_pos_[static_cast<size_t>(t)]), inv_freq_.data(), cfg_.rope_dim,
                &rope_cos_[static_cast<size_t>(t * half)], &rope_sin_[static_cast<size_t>(t * half)]);
  }
  for (size_t il = 0; il < model_.layers().size(); ++il) layer(il);

  logits_.resize(logit_tokens_.size() * static_cast<size_t>(cfg_.n_vocab));
  if (!logit_tokens_.empty()) logits_rows(logits_.data());
  return static_cast<const float*>(logits_.data());
}

void Forward::layer(size_t il) {
  const LayerWeights& L = model_.layers()[il];
  const int64_t E = cfg_.n_embd, n = n_tokens_;
  pool_.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) rms_norm(&x_[t * E], L.attn_norm.data(), &xn_[t * E], E, cfg_.rms_eps);
  });
  const MatmulOutput qkv[] = {{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}};
  matmul(qkv, xn_.data(), n, pool_, matmul_scratch_);
  rope_and_store(il);
  attention(il);
  matmul(L.wo, attn_.data(), n, xn_.data(), pool_, matmul_scratch_);
  pool_.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      add(&x_[t * E], &xn_[t * E], E);
      rms_norm(&x_[t * E], L.ffn_norm.data(), &xn_[t * E], E, cfg_.rms_eps);
    }
  });
  const MatmulOutput gate_up[] = {{&L.w_gate, gate_.data()}, {&L.w_up, up_.data()}};
  matmul(gate_up, xn_.data(), n, pool_, matmul_scratch_);
  pool_.parallel_for(n, [&](int64_t b, int64_t e) {
    silu_mul(&gate_[b * cfg_.n_ff], &up_[b * cfg_.n_ff], (e - b) * cfg_.n_ff);
  });
  matmul(L.w_down, gate_.data(), n, xn_.data(), pool_, matmul_scratch_);
  pool_.parallel_for(n, [&](int64_t b, int64_t e) { add(&x_[b * E], &xn_[b * E], (e - b) * E); });
}

void Forward::rope_and_store(size_t il) {
  const LayerWeights& L = model_.layers()[il];
  const int64_t hd = cfg_.head_dim, q_dim = cfg_.n_head * hd, kv_dim = cfg_.n_head_kv * hd;
  const RopePairing pairing =
      cfg_.rope_style == RopeStyle::kNeox ? RopePairing::kHalves : RopePairing::kAdjacent;
  const int64_t br = cache_.block_rows(), layer = static_cast<int64_t>(il), half = cfg_.rope_dim / 2;
  pool_.parallel_for(n_tokens_, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      float* q = &q_[t * q_dim];
      float* k = &k_[t * kv_dim];
      float* v = &v_[t * kv_dim];
      if (!L.bias_q.empty()) {
        add(q, L.bias_q.data(), q_dim);
        add(k, L.bias_k.data(), kv_dim);
        add(v, L.bias_v.data(), kv_dim);
      }
      const int64_t pos = token_pos_[static_cast<size_t>(t)];
      const float* cos = &rope_cos_[static_cast<size_t>(t * half)];
      const float* sin = &rope_sin_[static_cast<size_t>(t * half)];
      rope(q, cfg_.n_head, hd, cfg_.rope_dim, cos, sin, pairing);
      rope(k, cfg_.n_head_kv, hd, cfg_.rope_dim, cos, sin, pairing);
      const SequenceBatch& seq = batch_[static_cast<size_t>(token_seq_[static_cast<size_t>(t)])];
      const int64_t block = seq.blocks[static_cast<size_t>(pos / br)];
      for (int64_t h = 0; h < cfg_.n_head_kv; ++h) {
        store_kv_row(cache_.type(), k + h * hd, cache_.k(layer, block, h, pos % br), hd);
        store_kv_row(cache_.type(), v + h * hd, cache_.v(layer, block, h, pos % br), hd);
      }
    }
  });
}

void Forward::attention(size_t il) {
  const int64_t hd = cfg_.head_dim, q_dim = cfg_.n_head * hd;
  const int64_t group = cfg_.n_head / cfg_.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  seq_blocks_.resize(std::max(seq_blocks_.size(), batch_.size()));
  for (size_t s = 0; s < batch_.size(); ++s) {
    auto& blocks = seq_blocks_[s];
    blocks.clear();
    for (int32_t b : batch_[s].blocks) blocks.push_back(cache_.block(static_cast<int64_t>(il), b));
  }
  // Work items are (token, kv head) pairs: the query heads of one group read
  // each cached row once. Token t sees positions [0, pos(t)].
  const int64_t items = n_tokens_ * cfg_.n_head_kv;
  pool_.run([&](int ith, int nth) {
    float* scratch = &scratch_[static_cast<size_t>(ith) * scratch_per_thread_];
    for (int64_t item = ith; item < items; item += nth) {
      const int64_t t = item / cfg_.n_head_kv, g = item % cfg_.n_head_kv;
      const auto& blocks = seq_blocks_[static_cast<size_t>(token_seq_[static_cast<size_t>(t)])];
      const KvLayout kv = cache_.head_layout(g, blocks);
      const int64_t head = g * group;
      attend_group(&q_[t * q_dim + head * hd], group, kv, hd, token_pos_[static_cast<size_t>(t)] + 1, scale,
                   scratch, &attn_[t * q_dim + head * hd]);
    }
  });
}

void Forward::logits_rows(float* out) {
  // Only the rows whose logits are wanted go through the output matrix.
  const int64_t E = cfg_.n_embd;
  for (size_t r = 0; r < logit_tokens_.size(); ++r) {
    rms_norm(&x_[static_cast<size_t>(logit_tokens_[r] * E)], model_.output_norm().data(), &xn_[r * E], E,
             cfg_.rms_eps);
  }
  matmul(model_.output(), xn_.data(), static_cast<int64_t>(logit_tokens_.size()), out, pool_,
         matmul_scratch_);
}

}  // namespace gs
