#include "model/model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include <fmt/ranges.h>

#include "tensor/quants.h"
#include "tensor/repack.h"

namespace gs {
namespace {

const char* const kSupportedArchitectures[] = {"llama", "qwen2"};

Result<WeightView> matrix(const gguf::File& file, const std::string& name, int64_t cols, int64_t rows) {
  const gguf::TensorInfo* t = file.tensor(name);
  if (!t) return Error("missing tensor '{}'", name);
  if (t->dims.size() != 2 || t->dims[0] != cols || t->dims[1] != rows) {
    return Error("tensor '{}' has shape {}, expected [{}, {}]", name, fmt::join(t->dims, ", "), cols, rows);
  }
  return WeightView{t->type, rows, cols, t->data};
}

// 1-D tensors (norm weights, biases) are small: keep an f32 copy whatever
// their stored type.
Result<std::vector<float>> vector(const gguf::File& file, const std::string& name, int64_t n, bool required) {
  const gguf::TensorInfo* t = file.tensor(name);
  if (!t) {
    if (required) return Error("missing tensor '{}'", name);
    return std::vector<float>();
  }
  if (t->element_count() != n) {
    return Error("tensor '{}' has {} elements, expected {}", name, t->element_count(), n);
  }
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(t->type, t->data, out.data(), n);
  return out;
}

uint64_t matrix_bytes(const WeightView& w) {
  return static_cast<uint64_t>(row_bytes(w.type, w.cols)) * w.rows;
}

// Lets the kernel take back the pages of a file range that was copied (they
// are clean and read from the file again if touched), so a repacked model's
// resident size is about one copy of its weights, not two.
void release_file_pages(const void* data, size_t bytes) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  auto model = std::unique_ptr<Model>(new Model());
  GS_ASSIGN_OR_RETURN(model->file_, gguf::File::open(path));
  GS_RETURN_IF_ERROR(model->load_config().with_context(path));
  GS_RETURN_IF_ERROR(model->load_weights().with_context(path));
  GS_RETURN_IF_ERROR(model->repack_weights().with_context(path));
  GS_ASSIGN_OR_RETURN(model->tokenizer_, Tokenizer::from_gguf(*model->file_));
  if (model->tokenizer_->vocab_size() != model->config_.n_vocab) {
    return Error("{}: tokenizer has {} tokens but the embedding has {} rows", path,
                 model->tokenizer_->vocab_size(), model->config_.n_vocab);
  }
  return model;
}

Status Model::load_config() {
  const gguf::File& f = *file_;
  ModelConfig& c = config_;
  GS_ASSIGN_OR_RETURN(c.architecture, f.get_string("general.architecture"));
  bool known = false;
  for (const char* arch : kSupportedArchitectures) known |= c.architecture == arch;
  if (!known) return Error("unsupported model architecture '{}' (supported: llama, qwen2)", c.architecture);
  auto name = f.get_string("general.name");
  c.name = name.ok() ? *name : "";

  const std::string a = c.architecture + ".";
  GS_ASSIGN_OR_RETURN(c.n_embd, f.get_int(a + "embedding_length"));
  GS_ASSIGN_OR_RETURN(c.n_layer, f.get_int(a + "block_count"));
  GS_ASSIGN_OR_RETURN(c.n_head, f.get_int(a + "attention.head_count"));
  GS_ASSIGN_OR_RETURN(c.n_head_kv, f.get_int_or(a + "attention.head_count_kv", c.n_head));
  GS_ASSIGN_OR_RETURN(c.n_ff, f.get_int(a + "feed_forward_length"));
  GS_ASSIGN_OR_RETURN(c.n_ctx_train, f.get_int_or(a + "context_length", 2048));
  GS_ASSIGN_OR_RETURN(double eps, f.get_float_or(a + "attention.layer_norm_rms_epsilon", 1e-5));
  GS_ASSIGN_OR_RETURN(double base, f.get_float_or(a + "rope.freq_base", 10000.0));
  c.rms_eps = static_cast<float>(eps);
  c.rope_freq_base = static_cast<float>(base);

  if (c.n_embd <= 0 || c.n_layer <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 || c.n_ff <= 0 ||
      c.n_embd % c.n_head != 0 || c.n_head % c.n_head_kv != 0 || c.n_layer > 4096 || c.n_embd > (1 << 20)) {
    return Error("inconsistent hyper-parameters: n_embd {}, n_layer {}, n_head {}, n_head_kv {}, n_ff {}",
                 c.n_embd, c.n_layer, c.n_head, c.n_head_kv, c.n_ff);
  }
  GS_ASSIGN_OR_RETURN(c.head_dim, f.get_int_or(a + "attention.key_length", c.n_embd / c.n_head));
  GS_ASSIGN_OR_RETURN(c.rope_dim, f.get_int_or(a + "rope.dimension_count", c.head_dim));
  if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim > 1024 || c.rope_dim <= 0 ||
      c.rope_dim > c.head_dim || c.rope_dim % 2 != 0) {
    return Error("unsupported head size {} / rope dimension {}", c.head_dim, c.rope_dim);
  }

  auto scaling = f.get_string(a + "rope.scaling.type");
  if (scaling.ok() && *scaling == "linear") {
    GS_ASSIGN_OR_RETURN(double factor, f.get_float_or(a + "rope.scaling.factor", 1.0));
    if (factor > 0) c.rope_freq_scale = static_cast<float>(1.0 / factor);
  }
  c.rope_style = c.architecture == "qwen2" ? RopeStyle::kNeox : RopeStyle::kNormal;
  return Status::Ok();
}

Status Model::load_weights() {
  const gguf::File& f = *file_;
  ModelConfig& c = config_;
  const gguf::TensorInfo* embd = f.tensor("token_embd.weight");
  if (!embd) return Error("missing tensor 'token_embd.weight'");
  if (embd->dims.size() != 2) return Error("tensor 'token_embd.weight' is not a matrix");
  c.n_vocab = embd->dims[1];
  GS_ASSIGN_OR_RETURN(token_embd_, matrix(f, "token_embd.weight", c.n_embd, c.n_vocab));
  GS_ASSIGN_OR_RETURN(output_norm_, vector(f, "output_norm.weight", c.n_embd, true));
  c.tied_output = f.tensor("output.weight") == nullptr;
  if (c.tied_output) {
    output_ = token_embd_;
  } else {
    GS_ASSIGN_OR_RETURN(output_, matrix(f, "output.weight", c.n_embd, c.n_vocab));
  }
  GS_ASSIGN_OR_RETURN(rope_freq_factors_, vector(f, "rope_freqs.weight", c.rope_dim / 2, false));

  const int64_t q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  const bool biased = c.architecture == "qwen2";
  layers_.resize(static_cast<size_t>(c.n_layer));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = layers_[static_cast<size_t>(i)];
    const std::string p = fmt::format("blk.{}.", i);
    GS_ASSIGN_OR_RETURN(l.attn_norm, vector(f, p + "attn_norm.weight", c.n_embd, true));
    GS_ASSIGN_OR_RETURN(l.ffn_norm, vector(f, p + "ffn_norm.weight", c.n_embd, true));
    GS_ASSIGN_OR_RETURN(l.wq, matrix(f, p + "attn_q.weight", c.n_embd, q_dim));
    GS_ASSIGN_OR_RETURN(l.wk, matrix(f, p + "attn_k.weight", c.n_embd, kv_dim));
    GS_ASSIGN_OR_RETURN(l.wv, matrix(f, p + "attn_v.weight", c.n_embd, kv_dim));
    GS_ASSIGN_OR_RETURN(l.wo, matrix(f, p + "attn_output.weight", q_dim, c.n_embd));
    GS_ASSIGN_OR_RETURN(l.w_gate, matrix(f, p + "ffn_gate.weight", c.n_embd, c.n_ff));
    GS_ASSIGN_OR_RETURN(l.w_up, matrix(f, p + "ffn_up.weight", c.n_embd, c.n_ff));
    GS_ASSIGN_OR_RETURN(l.w_down, matrix(f, p + "ffn_down.weight", c.n_ff, c.n_embd));
    GS_ASSIGN_OR_RETURN(l.bias_q, vector(f, p + "attn_q.bias", q_dim, biased));
    GS_ASSIGN_OR_RETURN(l.bias_k, vector(f, p + "attn_k.bias", kv_dim, biased));
    GS_ASSIGN_OR_RETURN(l.bias_v, vector(f, p + "attn_v.bias", kv_dim, biased));
  }
  return Status::Ok();
}

// The token embedding stays in GGUF's layout for row lookups; a tied output
// matrix gets its own copy.
Status Model::repack_weights() {
  std::vector<WeightView*> matrices = {&output_};
  for (LayerWeights& l : layers_) {
    for (WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) matrices.push_back(w);
  }
  std::vector<WeightLayout> layouts;
  uint64_t total = 0;
  for (const WeightView* w : matrices) {
    layouts.push_back(preferred_layout(*w));
    if (layouts.back() != w->layout) total += matrix_bytes(*w);
  }
  if (total == 0) return Status::Ok();
  // Huge pages where the kernel gives them: the copy takes a fault per 2 MiB
  // instead of per 4 KiB, and the kernels fewer TLB misses.
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t size = (total + kHugePage - 1) / kHugePage * kHugePage;
  repacked_.reset(static_cast<uint8_t*>(std::aligned_alloc(kHugePage, size)));
  if (!repacked_) return Error("out of memory: {} MiB for the repacked weights", size >> 20);
  ::madvise(repacked_.get(), size, MADV_HUGEPAGE);
  uint8_t* dst = repacked_.get();
  for (size_t m = 0; m < matrices.size(); ++m) {
    WeightView* w = matrices[m];
    const WeightLayout layout = layouts[m];
    if (layout == w->layout) continue;
    const void* src = w->data;
    const uint64_t bytes = matrix_bytes(*w);
    *w = repack(*w, layout, dst);
    dst += bytes;
    release_file_pages(src, bytes);  // a tied embedding's lookups fault in the rows they read
  }
  return Status::Ok();
}

uint64_t Model::weight_bytes() const {
  uint64_t total = matrix_bytes(output_);
  for (const LayerWeights& l : layers_) {
    for (const WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
      total += matrix_bytes(*w);
  }
  return total;
}

}  // namespace gs
