// `genstack quantize` against llama.cpp: byte-identical for the 32-element
// formats, at least as accurate (per tensor) for the K formats, the same
// Q4_K_M mixture, and the refusals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "quantize/quantize.h"
#include "tensor/quants.h"
#include "test_util.h"

namespace gs {
namespace {

using ::testing::HasSubstr;

std::string synthetic(const std::string& model, const std::string& suffix) {
  return test::shared_path("models/synthetic/" + model + "-" + suffix + ".gguf");
}

std::unique_ptr<gguf::File> open_or_fail(const std::string& path) {
  auto file = gguf::File::open(path);
  EXPECT_TRUE(file.ok()) << file.error();
  return file.ok() ? std::move(file).value() : nullptr;
}

// Quantizes `input` into a fresh temporary file and opens the result.
std::unique_ptr<gguf::File> quantize(const std::string& input, const std::string& target,
                                     QuantizeOptions options = {}) {
  const std::string out = test::temp_dir() + "/out.gguf";
  options.target = target;
  const Status status = quantize_file(input, out, options);
  EXPECT_TRUE(status.ok()) << status.message();
  return status.ok() ? open_or_fail(out) : nullptr;
}

int64_t int_value(const gguf::File& file, const char* key) {
  auto v = file.get_int(key);
  EXPECT_TRUE(v.ok()) << v.error();
  return v.ok() ? *v : -1;
}

std::vector<float> as_f32(const gguf::TensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.element_count()));
  dequantize_row(t.type, t.data, out.data(), t.element_count());
  return out;
}

double rmse(const std::vector<float>& got, const std::vector<float>& want) {
  double err = 0;
  for (size_t i = 0; i < got.size(); ++i) err += (static_cast<double>(got[i]) - want[i]) * (got[i] - want[i]);
  return std::sqrt(err / static_cast<double>(got.size()));
}

std::string param_name(std::string name) {
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

struct Case {
  std::string model, target, reference;  // reference: suffix of llama.cpp's file
};

// ---- byte identity -------------------------------------------------------------

class SameBytesAsLlamaCpp : public ::testing::TestWithParam<Case> {};

TEST_P(SameBytesAsLlamaCpp, EveryTensor) {
  const Case& c = GetParam();
  auto input = open_or_fail(synthetic(c.model, "f32"));
  auto ours = quantize(synthetic(c.model, "f32"), c.target);
  auto theirs = open_or_fail(synthetic(c.model, c.reference));
  ASSERT_TRUE(input && ours && theirs);
  ASSERT_EQ(ours->tensors().size(), input->tensors().size());
  for (size_t i = 0; i < ours->tensors().size(); ++i) {
    const gguf::TensorInfo& t = ours->tensors()[i];
    EXPECT_EQ(t.name, input->tensors()[i].name) << "tensor order changed";
    const gguf::TensorInfo* ref = theirs->tensor(t.name);
    ASSERT_NE(ref, nullptr) << t.name;
    EXPECT_EQ(t.type, ref->type) << t.name;
    EXPECT_EQ(t.dims, ref->dims) << t.name;
    ASSERT_EQ(t.size_bytes, ref->size_bytes) << t.name;
    EXPECT_EQ(std::memcmp(t.data, ref->data, t.size_bytes), 0) << t.name << " differs";
  }
  EXPECT_EQ(int_value(*ours, "general.file_type"), int_value(*theirs, "general.file_type"));
  EXPECT_EQ(int_value(*ours, "general.quantization_version"), 2);
}

std::vector<Case> byte_cases() {
  std::vector<Case> cases;
  for (const char* model : {"tiny-llama", "tiny-qwen2"}) {
    for (const char* type : {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "f16", "bf16"}) {
      cases.push_back({model, type, type});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Synthetic, SameBytesAsLlamaCpp, ::testing::ValuesIn(byte_cases()),
                         [](const auto& info) {
                           return param_name(info.param.model + "_" + info.param.target);
                         });

// ---- K formats: accuracy against llama.cpp ----------------------------------------

constexpr double kMaxRatio = 1.05;

class AsAccurateAsLlamaCpp : public ::testing::TestWithParam<Case> {};

// Per tensor: RMSE of ours vs the f32 original, over llama.cpp's. Types must
// match llama.cpp's file (which for q4_K_M checks the mixture).
TEST_P(AsAccurateAsLlamaCpp, EveryTensor) {
  const Case& c = GetParam();
  auto original = open_or_fail(synthetic(c.model, "f32"));
  auto ours = quantize(synthetic(c.model, "f32"), c.target);
  auto theirs = open_or_fail(synthetic(c.model, c.reference));
  ASSERT_TRUE(original && ours && theirs);
  EXPECT_EQ(int_value(*ours, "general.file_type"), int_value(*theirs, "general.file_type"));

  std::printf("%s %s\n  %-26s %-5s %12s %12s %7s\n", c.model.c_str(), c.target.c_str(), "tensor", "type",
              "ours", "llama.cpp", "ratio");
  double worst = 0;
  for (const gguf::TensorInfo& t : ours->tensors()) {
    const gguf::TensorInfo* ref = theirs->tensor(t.name);
    ASSERT_NE(ref, nullptr) << t.name;
    EXPECT_EQ(traits(t.type).name, traits(ref->type).name) << t.name;
    if (!traits(t.type).is_quantized) {
      EXPECT_EQ(std::memcmp(t.data, ref->data, t.size_bytes), 0) << t.name;
      continue;
    }
    const std::vector<float> want = as_f32(*original->tensor(t.name));
    const double e_ours = rmse(as_f32(t), want), e_theirs = rmse(as_f32(*ref), want);
    const double ratio = e_ours / e_theirs;
    worst = std::max(worst, ratio);
    std::printf("  %-26s %-5s %12.4e %12.4e %7.4f\n", t.name.c_str(), traits(t.type).name.data(), e_ours,
                e_theirs, ratio);
    EXPECT_LE(ratio, kMaxRatio) << t.name;
  }
  std::printf("  worst ratio %.4f\n", worst);
}

std::vector<Case> k_cases() {
  std::vector<Case> cases;
  for (const char* model : {"tiny-llama", "tiny-qwen2"}) {
    for (const char* type : {"q2_K", "q3_K", "q4_K", "q5_K", "q6_K"}) {
      std::string reference = type;
      reference.back() = 'k';
      cases.push_back({model, type, reference});
    }
    cases.push_back({model, "q4_K_M", "q4_k_m-mix"});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Synthetic, AsAccurateAsLlamaCpp, ::testing::ValuesIn(k_cases()),
                         [](const auto& info) {
                           return param_name(info.param.model + "_" + info.param.target);
                         });

// ---- metadata, requantizing, errors ------------------------------------------------

TEST(Quantize, CopiesEveryMetadataKey) {
  auto input = open_or_fail(synthetic("tiny-qwen2", "f32"));
  auto ours = quantize(synthetic("tiny-qwen2", "f32"), "Q8_0");
  ASSERT_TRUE(input && ours);
  for (const auto& [key, value] : input->metadata()) {
    if (key == "general.file_type") continue;
    const gguf::Value* copied = ours->find(key);
    ASSERT_NE(copied, nullptr) << key;
    EXPECT_TRUE(*copied == value) << key;
  }
  EXPECT_EQ(int_value(*ours, "general.file_type"), 7);
}

TEST(Quantize, RefusesQuantizedInputWithoutPermission) {
  const std::string out = test::temp_dir() + "/out.gguf";
  QuantizeOptions options;
  options.target = "q4_0";
  const Status status = quantize_file(synthetic("tiny-llama", "q8_0"), out, options);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("input is already quantized (q8_0); pass --allow-requantize"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Quantize, RequantizesWhenAllowed) {
  QuantizeOptions options;
  options.allow_requantize = true;
  auto original = open_or_fail(synthetic("tiny-llama", "f32"));
  auto requantized = quantize(synthetic("tiny-llama", "q8_0"), "q4_0", options);
  auto direct = open_or_fail(synthetic("tiny-llama", "q4_0"));
  ASSERT_TRUE(original && requantized && direct);
  for (const gguf::TensorInfo& t : requantized->tensors()) {
    EXPECT_EQ(t.type, direct->tensor(t.name)->type) << t.name;
    const std::vector<float> want = as_f32(*original->tensor(t.name));
    // Two roundings cost a little more than one, not much.
    EXPECT_LE(rmse(as_f32(t), want), 1.1 * rmse(as_f32(*direct->tensor(t.name)), want) + 1e-12) << t.name;
  }
}

TEST(Quantize, SameTypeIsCopiedWithoutPermission) {
  auto input = open_or_fail(synthetic("tiny-llama", "q8_0"));
  auto ours = quantize(synthetic("tiny-llama", "q8_0"), "q8_0");
  ASSERT_TRUE(input && ours);
  for (const gguf::TensorInfo& t : ours->tensors()) {
    const gguf::TensorInfo* in = input->tensor(t.name);
    ASSERT_EQ(t.size_bytes, in->size_bytes);
    EXPECT_EQ(std::memcmp(t.data, in->data, t.size_bytes), 0) << t.name;
  }
}

TEST(Quantize, HalfPrecisionInputNeedsNoPermission) {
  auto ours = quantize(synthetic("tiny-qwen2", "bf16"), "q6_K");
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->tensor("blk.0.attn_q.weight")->type, GgmlType::Q6_K);
  EXPECT_EQ(ours->tensor("blk.0.attn_q.bias")->type, GgmlType::F32);
}

TEST(Quantize, SameBytesForAnyThreadCount) {
  const std::string dir = test::temp_dir();
  QuantizeOptions options;
  options.target = "q3_K";
  options.n_threads = 1;
  ASSERT_TRUE(quantize_file(synthetic("tiny-llama", "f32"), dir + "/one.gguf", options).ok());
  options.n_threads = 3;
  ASSERT_TRUE(quantize_file(synthetic("tiny-llama", "f32"), dir + "/three.gguf", options).ok());
  auto slurp = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  EXPECT_TRUE(slurp(dir + "/one.gguf") == slurp(dir + "/three.gguf"));
}

TEST(Quantize, BadInputsGiveOneLineErrors) {
  const std::string dir = test::temp_dir();
  {
    std::ofstream garbage(dir + "/garbage.gguf");
    garbage << "this is not a model";
  }
  QuantizeOptions options;
  const std::string f32 = synthetic("tiny-llama", "f32");
  struct Bad {
    std::string input, output, target, expect;
  };
  for (const Bad& bad : {
           Bad{dir + "/missing.gguf", dir + "/o.gguf", "q8_0", "missing.gguf"},
           Bad{dir + "/garbage.gguf", dir + "/o.gguf", "q8_0", "garbage.gguf"},
           Bad{f32, dir + "/o.gguf", "q9_9", "unknown quantization type 'q9_9'"},
           Bad{f32, dir + "/o.gguf", "q8_K", "unknown quantization type"},
           Bad{f32, dir + "/no/such/dir/o.gguf", "q8_0", "o.gguf"},
       }) {
    options.target = bad.target;
    const Status status = quantize_file(bad.input, bad.output, options);
    ASSERT_FALSE(status.ok()) << bad.input << " " << bad.target;
    EXPECT_THAT(status.message(), HasSubstr(bad.expect));
    EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
  }
}

// ---- synthetic models: row-length fallback and the mixture rules ----------------------

// A small f32 model written with gguf::Writer; tensors get random data.
class ModelBuilder {
 public:
  explicit ModelBuilder(int n_layer) {
    writer_.set("general.architecture", gguf::Value::str("llama"));
    writer_.set("llama.block_count", gguf::Value::u32(static_cast<uint32_t>(n_layer)));
  }
  void add(const std::string& name, std::vector<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    auto& data = data_.emplace_back(static_cast<size_t>(n));
    std::normal_distribution<float> normal;
    for (float& v : data) v = normal(rng_);
    writer_.add_tensor(name, GgmlType::F32, std::move(dims), data.data(), data.size() * sizeof(float));
  }
  std::string write() {
    const std::string path = test::temp_dir() + "/model.gguf";
    const Status s = writer_.write(path);
    EXPECT_TRUE(s.ok()) << s.message();
    return path;
  }

 private:
  gguf::Writer writer_;
  std::vector<std::vector<float>> data_;
  std::mt19937 rng_{5};
};

TEST(Quantize, RowsThatDoNotFitTheBlockFallBack) {
  ModelBuilder model(1);
  model.add("blk.0.attn_q.weight", {96, 4});  // whole 32-blocks, not 256-blocks
  model.add("blk.0.attn_k.weight", {48, 4});  // not even 32-blocks
  model.add("blk.0.attn_v.weight", {256, 2});
  model.add("blk.0.attn_norm.weight", {96});
  const std::string path = model.write();
  struct Expect {
    const char* target;
    GgmlType q, k, v;
  };
  for (const Expect& e : {Expect{"q4_K", GgmlType::Q5_0, GgmlType::F16, GgmlType::Q4_K},
                          Expect{"q5_K", GgmlType::Q5_1, GgmlType::F16, GgmlType::Q5_K},
                          Expect{"q6_K", GgmlType::Q8_0, GgmlType::F16, GgmlType::Q6_K},
                          Expect{"q2_K", GgmlType::Q4_0, GgmlType::F16, GgmlType::Q2_K},
                          Expect{"q4_0", GgmlType::Q4_0, GgmlType::F16, GgmlType::Q4_0}}) {
    auto out = quantize(path, e.target);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->tensor("blk.0.attn_q.weight")->type, e.q) << e.target;
    EXPECT_EQ(out->tensor("blk.0.attn_k.weight")->type, e.k) << e.target;
    EXPECT_EQ(out->tensor("blk.0.attn_v.weight")->type, e.v) << e.target;
    EXPECT_EQ(out->tensor("blk.0.attn_norm.weight")->type, GgmlType::F32) << e.target;
  }
}

// llama.cpp's use_more_bits for 32 layers: the first and last eighth (0-3,
// 28-31) and every third layer in between (6, 9, ..., 27).
const std::set<int> kMoreBits32 = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};

std::string build_32_layer_model(bool tied_embedding) {
  ModelBuilder model(32);
  model.add("token_embd.weight", {256, 2});
  // Written last layer first: the rules must go by layer number, not file order.
  for (int i = 31; i >= 0; --i) {
    for (const char* part : {"attn_q", "attn_v", "ffn_down"}) {
      model.add("blk." + std::to_string(i) + "." + part + ".weight", {256, 1});
    }
  }
  if (!tied_embedding) model.add("output.weight", {256, 2});
  return model.write();
}

TEST(Quantize, MixturesGiveMoreBitsToLlamaCppsLayers) {
  const std::string path = build_32_layer_model(/*tied_embedding=*/false);
  for (auto [target, base] : {std::pair{"Q4_K_M", GgmlType::Q4_K}, std::pair{"q5_k_m", GgmlType::Q5_K}}) {
    auto out = quantize(path, target);
    ASSERT_TRUE(out);
    EXPECT_EQ(int_value(*out, "general.file_type"), base == GgmlType::Q4_K ? 15 : 17);
    EXPECT_EQ(out->tensor("output.weight")->type, GgmlType::Q6_K);
    EXPECT_EQ(out->tensor("token_embd.weight")->type, base);
    for (int i = 0; i < 32; ++i) {
      const std::string blk = "blk." + std::to_string(i) + ".";
      const GgmlType more = kMoreBits32.count(i) ? GgmlType::Q6_K : base;
      EXPECT_EQ(out->tensor(blk + "attn_v.weight")->type, more) << target << " layer " << i;
      EXPECT_EQ(out->tensor(blk + "ffn_down.weight")->type, more) << target << " layer " << i;
      EXPECT_EQ(out->tensor(blk + "attn_q.weight")->type, base) << target << " layer " << i;
    }
  }
}

TEST(Quantize, TiedEmbeddingGetsTheOutputType) {
  auto out = quantize(build_32_layer_model(/*tied_embedding=*/true), "q4_K_M");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->tensor("token_embd.weight")->type, GgmlType::Q6_K);
}

}  // namespace
}  // namespace gs
