// Per-tensor type choice. A plain type is applied to every weight matrix (as
// llama.cpp does with --pure); the _K_M mixtures follow llama.cpp's
// llama_tensor_get_type so that our Q4_K_M puts Q6_K on the same tensors.
#include "quantize/plan.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <string>

namespace gs::quant {
namespace {

struct TargetName {
  std::string_view name;
  Target target;
};

// general.file_type values are llama.cpp's llama_ftype. A single K type gets
// the number of its _M mixture, as llama.cpp's own --pure files carry.
constexpr TargetName kTargets[] = {
    {"f32", {GgmlType::F32, Mixture::kNone, 0}},        {"f16", {GgmlType::F16, Mixture::kNone, 1}},
    {"bf16", {GgmlType::BF16, Mixture::kNone, 32}},     {"q4_0", {GgmlType::Q4_0, Mixture::kNone, 2}},
    {"q4_1", {GgmlType::Q4_1, Mixture::kNone, 3}},      {"q5_0", {GgmlType::Q5_0, Mixture::kNone, 8}},
    {"q5_1", {GgmlType::Q5_1, Mixture::kNone, 9}},      {"q8_0", {GgmlType::Q8_0, Mixture::kNone, 7}},
    {"q2_K", {GgmlType::Q2_K, Mixture::kNone, 10}},     {"q3_K", {GgmlType::Q3_K, Mixture::kNone, 12}},
    {"q4_K", {GgmlType::Q4_K, Mixture::kNone, 15}},     {"q5_K", {GgmlType::Q5_K, Mixture::kNone, 17}},
    {"q6_K", {GgmlType::Q6_K, Mixture::kNone, 18}},     {"q4_K_M", {GgmlType::Q4_K, Mixture::kQ4_K_M, 15}},
    {"q5_K_M", {GgmlType::Q5_K, Mixture::kQ5_K_M, 17}},
};

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// N of "blk.N.*", or -1.
int layer_of(std::string_view name) {
  int layer = -1;
  const std::string s(name);
  if (std::sscanf(s.c_str(), "blk.%d.", &layer) != 1) return -1;
  return layer;
}

// The facts about the model that llama.cpp's mixture rules consult.
struct ModelInfo {
  std::string arch;
  int n_layer = 0;
  int64_t n_expert = 0;
  bool has_output = false;  // false: token_embd doubles as the output matrix
  bool is_70b = false;
  std::map<std::string, int> attn_v_index;  // position among attn_v tensors, layer order
  int n_attn_v = 0;                         // attn_v, attn_qkv and attn_kv_b tensors
};

int64_t int_or(const gguf::File& file, const std::string& key, int64_t fallback) {
  Result<int64_t> v = file.get_int_or(key, fallback);
  return v.ok() ? *v : fallback;
}

// llama.cpp sizes 80-layer llama (with GQA) and qwen2 models as "70B" and
// gives their attn_v more bits; other model-size rules do not touch _K_M.
bool is_70b_model(const gguf::File& file, const ModelInfo& m) {
  if (m.n_layer != 80) return false;
  if (m.arch == "qwen2") return true;
  if (m.arch != "llama") return false;
  return int_or(file, m.arch + ".attention.head_count", 0) !=
         int_or(file, m.arch + ".attention.head_count_kv", 0);
}

ModelInfo read_model_info(const gguf::File& file) {
  ModelInfo m;
  Result<std::string> arch = file.get_string("general.architecture");
  if (arch.ok()) m.arch = *arch;
  m.n_expert = int_or(file, m.arch + ".expert_count", 0);
  int max_layer = -1;
  // llama.cpp visits tensors ordered by (layer, name); attn_v's position in
  // that order picks its layers.
  std::vector<std::pair<int, std::string>> attn_v;
  for (const gguf::TensorInfo& t : file.tensors()) {
    max_layer = std::max(max_layer, layer_of(t.name));
    if (t.name == "output.weight") m.has_output = true;
    if (contains(t.name, "attn_v.weight")) attn_v.emplace_back(layer_of(t.name), t.name);
    if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight") ||
        contains(t.name, "attn_kv_b.weight")) {
      ++m.n_attn_v;
    }
  }
  std::sort(attn_v.begin(), attn_v.end());
  for (size_t i = 0; i < attn_v.size(); ++i) m.attn_v_index[attn_v[i].second] = static_cast<int>(i);
  m.n_layer = static_cast<int>(int_or(file, m.arch + ".block_count", max_layer + 1));
  m.is_70b = is_70b_model(file, m);
  return m;
}

// llama.cpp's choice of layers that get more bits: the first and last
// eighth, and every third layer in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

GgmlType attn_v_type(const Target& t, const gguf::TensorInfo& ti, const ModelInfo& m) {
  GgmlType type = t.type;
  auto index = m.attn_v_index.find(ti.name);
  if (index != m.attn_v_index.end() && use_more_bits(index->second, m.n_attn_v)) type = GgmlType::Q6_K;
  // In 70B models attn_v is 8x smaller than attn_q: more bits cost little.
  if (m.is_70b && (type == GgmlType::Q3_K || type == GgmlType::Q4_K)) type = GgmlType::Q5_K;
  if (m.n_expert == 8) type = GgmlType::Q8_0;
  return type;
}

GgmlType ffn_down_type(const Target& t, const gguf::TensorInfo& ti, const ModelInfo& m) {
  const int i = layer_of(ti.name), n = m.n_layer;
  if (i < 0) return t.type;
  if (t.mixture == Mixture::kQ4_K_M && m.arch == "falcon") {
    return i < n / 16 ? GgmlType::Q6_K : use_more_bits(i, n) ? GgmlType::Q5_K : GgmlType::Q4_K;
  }
  return use_more_bits(i, n) ? GgmlType::Q6_K : t.type;
}

GgmlType mixture_type(const Target& t, const gguf::TensorInfo& ti, const ModelInfo& m) {
  const std::string& name = ti.name;
  const bool q4 = t.mixture == Mixture::kQ4_K_M;
  // The output matrix (or the tied embedding standing in for it) matters most.
  if (name == "output.weight" || (!m.has_output && name == "token_embd.weight")) {
    return m.arch == "falcon" || ti.dims[0] % kQK_K != 0 ? GgmlType::Q8_0 : GgmlType::Q6_K;
  }
  if (name == "token_embd.weight") return t.type;
  if (contains(name, "attn_v.weight")) return attn_v_type(t, ti, m);
  if (contains(name, "attn_k.weight")) return m.n_expert == 8 ? GgmlType::Q8_0 : t.type;
  if (contains(name, "ffn_down")) return ffn_down_type(t, ti, m);
  if (contains(name, "attn_output.weight")) {
    return q4 && m.arch != "falcon" && m.n_expert == 8 ? GgmlType::Q5_K : t.type;
  }
  if (contains(name, "attn_qkv.weight")) return q4 ? GgmlType::Q5_K : GgmlType::Q6_K;
  return t.type;
}

// A row must hold whole blocks. Like llama.cpp, fall back to a 32-element
// format of similar size, else F16. llama.cpp turns Q2_K/Q3_K into IQ4_NL,
// which genstack does not implement; Q4_0 has the same 4.5 bits per weight.
// (llama.cpp refuses such tensors in --pure mode; falling back is kinder.)
GgmlType fit_row_length(GgmlType type, int64_t cols) {
  if (cols % traits(type).block_size == 0) return type;
  switch (type) {
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
      type = GgmlType::Q4_0;
      break;
    case GgmlType::Q4_K:
      type = GgmlType::Q5_0;
      break;
    case GgmlType::Q5_K:
      type = GgmlType::Q5_1;
      break;
    case GgmlType::Q6_K:
      type = GgmlType::Q8_0;
      break;
    default:
      type = GgmlType::F16;
      break;
  }
  return cols % traits(type).block_size == 0 ? type : GgmlType::F16;
}

}  // namespace

Result<Target> parse_target(std::string_view name) {
  std::string known;
  for (const TargetName& t : kTargets) {
    if (equals_ignore_case(t.name, name)) return t.target;
    known += known.empty() ? "" : ", ";
    known += t.name;
  }
  return Error("unknown quantization type '{}' (expected one of: {})", name, known);
}

bool is_quantizable(std::string_view name, size_t n_dims) {
  // 3-D tensors are stacks of expert matrices: their rows quantize the same.
  if (n_dims < 2 || name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
  // Small or precision-critical matrices llama.cpp leaves alone.
  for (std::string_view keep : {"_norm.weight", "ffn_gate_inp.weight", "position_embd.weight",
                                "token_types.weight", "ssm_conv1d.weight", "attn_rel_b.weight"}) {
    if (contains(name, keep)) return false;
  }
  return true;
}

std::vector<GgmlType> plan_types(const gguf::File& file, const Target& target) {
  const ModelInfo model = read_model_info(file);
  std::vector<GgmlType> types;
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (!is_quantizable(t.name, t.dims.size())) {
      types.push_back(t.type);
      continue;
    }
    const GgmlType type = target.mixture == Mixture::kNone ? target.type : mixture_type(target, t, model);
    types.push_back(fit_row_length(type, t.dims[0]));
  }
  return types;
}

}  // namespace gs::quant
