// A decoder-only transformer loaded from GGUF: hyper-parameters, weights and
// the tokenizer. Weights are views into the memory-mapped file, except the
// matrices this CPU multiplies faster in another layout (tensor/repack.h):
// those are copied into it once, at load time.
// Architectures: `llama` (Llama 2/3.x, TinyLlama, SmolLM2, Mistral) and
// `qwen2` (q/k/v biases, NeoX RoPE).
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"
#include "tensor/matmul.h"
#include "tokenizer/tokenizer.h"

namespace gs {

enum class RopeStyle { kNormal, kNeox };  // pairs (2i, 2i+1) or (i, i + d/2)

struct ModelConfig {
  std::string architecture;
  std::string name;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_ff = 0;
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  float rms_eps = 1e-5f;
  int64_t rope_dim = 0;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // linear scaling: positions multiplied by this
  RopeStyle rope_style = RopeStyle::kNormal;
  bool tied_output = false;  // output matrix is the token embedding
};

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  std::vector<float> bias_q, bias_k, bias_v;  // empty when absent
  WeightView wq, wk, wv, wo;
  WeightView w_gate, w_up, w_down;
};

class Model {
 public:
  // Opens and validates the file: architecture known, every required tensor
  // present with the expected shape. Errors are one line.
  static Result<std::unique_ptr<Model>> load(const std::string& path);

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const gguf::File& file() const { return *file_; }

  const WeightView& token_embedding() const { return token_embd_; }
  const WeightView& output() const { return output_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }
  // Per-dimension RoPE frequency divisors (Llama 3.1+ `rope_freqs.weight`);
  // empty when the model has none.
  const std::vector<float>& rope_freq_factors() const { return rope_freq_factors_; }

  // Bytes of weights read to decode one token (every matrix once).
  uint64_t weight_bytes() const;

 private:
  Model() = default;
  Status load_config();
  Status load_weights();
  Status repack_weights();

  std::unique_ptr<gguf::File> file_;
  std::unique_ptr<Tokenizer> tokenizer_;
  ModelConfig config_;
  WeightView token_embd_, output_;
  std::vector<float> output_norm_;
  std::vector<float> rope_freq_factors_;
  std::vector<LayerWeights> layers_;
  struct FreeBytes {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], FreeBytes> repacked_;  // the repacked matrices, one after another
};

}  // namespace gs
