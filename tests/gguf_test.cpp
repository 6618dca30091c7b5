// GGUF reader, writer and inspector against the real test models.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gguf/gguf.h"
#include "gguf/inspect.h"
#include "test_util.h"

namespace gs::gguf {
namespace {

namespace fs = std::filesystem;

std::string stories_path() { return test::shared_path("models/stories260K.gguf"); }

std::vector<std::string> all_models() {
  std::vector<std::string> paths = {stories_path()};
  for (const auto& entry : fs::directory_iterator(test::shared_path("models/synthetic"))) {
    if (entry.path().extension() == ".gguf") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::unique_ptr<File> open_ok(const std::string& path) {
  auto f = File::open(path);
  EXPECT_TRUE(f.ok()) << f.error();
  return f.ok() ? std::move(f).value() : nullptr;
}

// The type a synthetic file is named after ("tiny-llama-q4_k.gguf" -> Q4_K).
std::optional<GgmlType> type_from_name(const std::string& path) {
  std::string stem = fs::path(path).stem().string();
  return parse_type_name(stem.substr(stem.rfind('-') + 1));
}

TEST(GgufRead, Stories260KKnownFacts) {
  auto f = open_ok(stories_path());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->metadata().size(), 19u);
  EXPECT_EQ(f->tensors().size(), 48u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->data_offset(), 14176u);
  EXPECT_EQ(f->file_size(), 1185376u);
  EXPECT_EQ(f->metadata().front().first, "tokenizer.ggml.tokens");  // file order is kept

  EXPECT_EQ(*f->get_string("general.architecture"), "llama");
  EXPECT_EQ(*f->get_int("llama.block_count"), 5);
  EXPECT_EQ(*f->get_int("llama.embedding_length"), 64);
  EXPECT_EQ(*f->get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(*f->get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(*f->get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(*f->get_int("llama.context_length"), 2048);
  EXPECT_EQ(*f->get_int("tokenizer.ggml.seperator_token_id"), 4294967295);
  EXPECT_EQ(*f->get_float("llama.attention.layer_norm_rms_epsilon"), static_cast<double>(1e-5f));
  EXPECT_EQ(*f->get_float("llama.block_count"), 5.0);  // integers widen to float

  const Value* tokens = f->find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->type, ValueType::ARRAY);
  EXPECT_EQ(tokens->array_type, ValueType::STRING);
  ASSERT_EQ(tokens->array_size(), 512u);
  EXPECT_EQ(tokens->strings[0], "<unk>");
  EXPECT_EQ(tokens->strings[2], "</s>");
  EXPECT_EQ(tokens->strings[3], "<0x00>");
  const Value* types = f->find("tokenizer.ggml.token_type");
  ASSERT_NE(types, nullptr);
  EXPECT_EQ(types->array_type, ValueType::INT32);
  EXPECT_EQ(std::vector<int64_t>(types->integers.begin(), types->integers.begin() + 4),
            (std::vector<int64_t>{2, 3, 3, 6}));
  EXPECT_EQ(f->find("tokenizer.ggml.scores")->numbers.size(), 512u);

  const TensorInfo* down = f->tensor("blk.0.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->dims, (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(down->type, GgmlType::F32);
  EXPECT_EQ(down->offset, 355840u);
  EXPECT_EQ(down->size_bytes, 172u * 64 * 4);
  EXPECT_EQ(down->element_count(), 172 * 64);
  EXPECT_EQ(down->rows(), 64);
  EXPECT_EQ(f->tensors().back().name, "blk.4.ffn_norm.weight");
  EXPECT_EQ(f->tensor("no.such.tensor"), nullptr);
}

TEST(GgufRead, TensorDataPointsIntoTheFile) {
  auto f = open_ok(stories_path());
  ASSERT_TRUE(f);
  std::vector<uint8_t> bytes = read_bytes(stories_path());
  for (const TensorInfo& t : f->tensors()) {
    ASSERT_EQ(std::memcmp(t.data, bytes.data() + f->data_offset() + t.offset, t.size_bytes), 0) << t.name;
  }
}

TEST(GgufRead, ParseOfABufferMatchesOpen) {
  std::vector<uint8_t> bytes = read_bytes(stories_path());
  auto parsed = File::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  auto opened = open_ok(stories_path());
  EXPECT_EQ((*parsed)->metadata(), opened->metadata());
  ASSERT_EQ((*parsed)->tensors().size(), opened->tensors().size());
  const TensorInfo& t = (*parsed)->tensors()[3];
  EXPECT_EQ(t.data, bytes.data() + (*parsed)->data_offset() + t.offset);  // not copied
}

TEST(GgufRead, EverySyntheticModel) {
  std::vector<std::string> models = all_models();
  ASSERT_EQ(models.size(), 29u);
  for (const std::string& path : models) {
    SCOPED_TRACE(path);
    auto f = open_ok(path);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->version(), 3u);
    for (const TensorInfo& t : f->tensors()) {
      EXPECT_NE(t.data, nullptr);
      EXPECT_LE(f->data_offset() + t.offset + t.size_bytes, f->file_size()) << t.name;
    }
    if (path == stories_path()) continue;
    std::string arch = *f->get_string("general.architecture");
    bool f32 = path.find("-f32.") != std::string::npos;
    EXPECT_EQ(f->metadata().size(), f32 ? 22u : 23u);
    EXPECT_EQ(f->tensors().size(), arch == "llama" ? 21u : 26u);
    EXPECT_EQ(*f->get_int(arch + ".block_count"), 2);
    EXPECT_EQ(*f->get_int(arch + ".embedding_length"), 256);
    EXPECT_EQ(f->find("tokenizer.ggml.tokens")->array_size(), 1024u);
    EXPECT_TRUE(*f->get_bool("tokenizer.ggml.add_bos_token"));
    EXPECT_EQ(*f->get_int("general.alignment"), 32);
    const TensorInfo* down = f->tensor("blk.0.ffn_down.weight");
    ASSERT_NE(down, nullptr);
    EXPECT_EQ(down->dims, (std::vector<int64_t>{768, 256}));
    if (path.find("mix") != std::string::npos) {
      EXPECT_EQ(down->type, GgmlType::Q4_K);
    } else {
      ASSERT_TRUE(type_from_name(path).has_value());
      EXPECT_EQ(down->type, *type_from_name(path));
      EXPECT_EQ(f->tensor("token_embd.weight")->type, *type_from_name(path));
    }
    EXPECT_EQ(f->tensor("blk.1.attn_q.bias") != nullptr, arch == "qwen2");
  }
}

TEST(GgufRead, MixedQuantizationHasQ6K) {
  auto f = open_ok(test::shared_path("models/synthetic/tiny-qwen2-q4_k_m-mix.gguf"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->tensor("token_embd.weight")->type, GgmlType::Q6_K);
  EXPECT_EQ(*f->get_int("general.file_type"), 15);
  EXPECT_DOUBLE_EQ(*f->get_float("qwen2.rope.freq_base"), 1e6);
}

TEST(GgufRead, TypedGetterErrors) {
  auto f = open_ok(stories_path());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get_int("general.architecture").error(),
            "metadata key 'general.architecture' has type string, expected integer");
  EXPECT_EQ(f->get_string("llama.block_count").error(),
            "metadata key 'llama.block_count' has type uint32, expected string");
  EXPECT_EQ(f->get_bool("llama.block_count").error(),
            "metadata key 'llama.block_count' has type uint32, expected bool");
  EXPECT_EQ(f->get_float("tokenizer.ggml.tokens").error(),
            "metadata key 'tokenizer.ggml.tokens' has type array of string, expected float");
  EXPECT_EQ(f->get_int("qwen2.block_count").error(), "missing metadata key 'qwen2.block_count'");
  EXPECT_EQ(f->get_string("x").error(), "missing metadata key 'x'");
  EXPECT_EQ(*f->get_int_or("llama.missing", 7), 7);
  EXPECT_EQ(*f->get_int_or("llama.block_count", 7), 5);
  EXPECT_EQ(*f->get_float_or("llama.rope.freq_base", 10000.0), 10000.0);
  EXPECT_TRUE(*f->get_bool_or("tokenizer.ggml.add_bos_token", true));
  EXPECT_FALSE(f->get_bool_or("general.name", true).ok());  // mistyped is still an error
}

TEST(GgufRead, OpenErrors) {
  std::string dir = test::temp_dir();
  auto missing = File::open(dir + "/nope.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("nope.gguf: cannot open"), std::string::npos) << missing.error();
  auto directory = File::open(dir);
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().find("not a regular file"), std::string::npos);
  std::ofstream(dir + "/empty.gguf").close();
  auto empty = File::open(dir + "/empty.gguf");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().find("empty file"), std::string::npos);
  std::ofstream(dir + "/text.gguf") << "hello, world\n";
  auto text = File::open(dir + "/text.gguf");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error(), dir + "/text.gguf: bad magic 0x68656c6c: not a GGUF file (expected \"GGUF\")");
}

// ---- inspect -----------------------------------------------------------------------

TEST(GgufInspect, TextDump) {
  auto f = open_ok(stories_path());
  ASSERT_TRUE(f);
  std::string text = describe_gguf(*f, true);
  EXPECT_EQ(text.rfind("GGUF v3: 19 keys, 48 tensors", 0), 0u) << text.substr(0, 100);
  EXPECT_NE(text.find("  llama.block_count = 5\n"), std::string::npos);
  EXPECT_NE(text.find("  general.architecture = llama\n"), std::string::npos);
  EXPECT_NE(text.find("  tokenizer.ggml.tokens = [512 items] [\"<unk>\", \"<s>\", \"</s>\", \"<0x00>\""),
            std::string::npos);
  EXPECT_NE(text.find("  tokenizer.ggml.scores = [512 items] [0.0, 0.0"), std::string::npos);
  EXPECT_NE(text.find("  llama.attention.layer_norm_rms_epsilon = 9.999999747378752e-06\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("blk.0.ffn_down.weight            [172, 64]                f32    @355840 (44032 bytes)"),
      std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1 + 19 + 48);
  std::string no_tensors = describe_gguf(*f, false);
  EXPECT_EQ(no_tensors.find("blk.0.ffn_down.weight"), std::string::npos);
  EXPECT_EQ(std::count(no_tensors.begin(), no_tensors.end(), '\n'), 1 + 19);
}

TEST(GgufInspect, JsonDump) {
  auto f = open_ok(test::shared_path("models/synthetic/tiny-qwen2-q4_k_m-mix.gguf"));
  ASSERT_TRUE(f);
  boost::json::value doc = boost::json::parse(describe_gguf_json(*f));
  const auto& root = doc.as_object();
  EXPECT_EQ(root.at("version").as_int64(), 3);
  EXPECT_EQ(root.at("alignment").as_int64(), 32);
  EXPECT_EQ(root.at("data_offset").as_int64(), static_cast<int64_t>(f->data_offset()));
  const auto& meta = root.at("metadata").as_object();
  EXPECT_EQ(meta.size(), 23u);
  EXPECT_EQ(meta.at("general.architecture").at("value").as_string(), "qwen2");
  EXPECT_EQ(meta.at("qwen2.block_count").at("type").as_string(), "uint32");
  EXPECT_EQ(meta.at("qwen2.block_count").at("value").as_int64(), 2);
  EXPECT_EQ(meta.at("tokenizer.ggml.add_bos_token").at("value").as_bool(), true);
  EXPECT_EQ(meta.at("tokenizer.ggml.tokens").at("element_type").as_string(), "string");
  EXPECT_EQ(meta.at("tokenizer.ggml.tokens").at("value").as_array().size(), 1024u);  // not abbreviated
  const auto& tensors = root.at("tensors").as_array();
  ASSERT_EQ(tensors.size(), 26u);
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(tensors[i].at("name").as_string(), f->tensors()[i].name);  // file order
    EXPECT_EQ(tensors[i].at("size").as_int64(), static_cast<int64_t>(f->tensors()[i].size_bytes));
  }
  auto embd = std::find_if(tensors.begin(), tensors.end(),
                           [](const boost::json::value& t) { return t.at("name") == "token_embd.weight"; });
  ASSERT_NE(embd, tensors.end());
  EXPECT_EQ(embd->at("type").as_string(), "q6_K");
  EXPECT_EQ(embd->at("dims"), boost::json::parse("[256, 1024]"));
  EXPECT_EQ(embd->at("offset").as_int64(), 1024);
}

TEST(GgufInspect, JsonStringEscaping) {
  std::string raw = std::string("q\"b\\s/\n\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ") +
                    "\xff \xc3 \xed\xa0\x80 \xc0\xaf";
  std::string out;
  append_json_string(out, raw);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  boost::json::value parsed = boost::json::parse(out);
  EXPECT_EQ(std::string(parsed.as_string()),
            "q\"b\\s/\n\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
            "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd");
  std::string nul;
  append_json_string(nul, std::string_view("a\0b", 3));
  EXPECT_EQ(nul, "\"a\\u0000b\"");
}

// ---- writer ------------------------------------------------------------------------

Value scalar(ValueType type, int64_t integer, double number = 0) {
  Value v;
  v.type = type;
  v.integer = integer;
  v.number = number;
  return v;
}

Value int_array(ValueType element, std::vector<int64_t> items) {
  Value v;
  v.type = ValueType::ARRAY;
  v.array_type = element;
  v.integers = std::move(items);
  return v;
}

Value nested(std::vector<Value> items) {
  Value v;
  v.type = ValueType::ARRAY;
  v.array_type = ValueType::ARRAY;
  v.arrays = std::move(items);
  return v;
}

// Every value type as a scalar and as an array, extremes included.
std::vector<std::pair<std::string, Value>> every_value_type() {
  Value f64_array = Value::f32_array({1.0 / 3, -1e300});
  f64_array.array_type = ValueType::FLOAT64;
  return {
      {"t.u8", scalar(ValueType::UINT8, 255)},
      {"t.i8", scalar(ValueType::INT8, -128)},
      {"t.u16", scalar(ValueType::UINT16, 65535)},
      {"t.i16", scalar(ValueType::INT16, -32768)},
      {"t.u32", Value::u32(4294967295u)},
      {"t.i32", Value::i32(-2147483647 - 1)},
      {"t.f32", Value::f32(-0.15625f)},
      {"t.bool", Value::boolean(true)},
      {"t.false", Value::boolean(false)},
      {"t.string", Value::str("h\xc3\xa9llo\n\"world\"")},
      {"t.empty_string", Value::str("")},
      {"t.u64", Value::u64(18446744073709551615ull)},
      {"t.i64", scalar(ValueType::INT64, INT64_MIN)},
      {"t.f64", scalar(ValueType::FLOAT64, 0, 1.0 / 3)},
      {"a.u8", int_array(ValueType::UINT8, {0, 1, 255})},
      {"a.i8", int_array(ValueType::INT8, {-128, 127})},
      {"a.u16", int_array(ValueType::UINT16, {65535})},
      {"a.i16", int_array(ValueType::INT16, {-32768, 5})},
      {"a.u32", int_array(ValueType::UINT32, {4294967295, 0})},
      {"a.i32", Value::i32_array({-1, 2, -3})},
      {"a.f32", Value::f32_array({0.5, -2.25, 1e-5f})},
      {"a.bool", int_array(ValueType::BOOL, {1, 0, 1})},
      {"a.string", Value::string_array({"a", "", "\xe2\x96\x81the"})},
      {"a.u64", int_array(ValueType::UINT64, {-1, 0})},
      {"a.i64", int_array(ValueType::INT64, {INT64_MAX, INT64_MIN})},
      {"a.f64", f64_array},
      {"a.empty", int_array(ValueType::UINT32, {})},
      {"a.nested",
       nested({Value::i32_array({1, 2}), Value::string_array({"x"}), nested({Value::f32_array({})})})},
  };
}

TEST(GgufWrite, RoundTripsEveryValueTypeAndTensorType) {
  Writer w;
  auto values = every_value_type();
  for (const auto& [k, v] : values) w.set(k, v);
  struct Src {
    std::string name;
    GgmlType type;
    std::vector<int64_t> dims;
  };
  std::vector<Src> srcs = {{"f32", GgmlType::F32, {3, 5}},         {"f16", GgmlType::F16, {7}},
                           {"bf16", GgmlType::BF16, {2, 2, 2, 2}}, {"q4_0", GgmlType::Q4_0, {64, 3}},
                           {"q8_0", GgmlType::Q8_0, {32, 1, 2}},   {"q4_k", GgmlType::Q4_K, {256, 2}},
                           {"q6_k", GgmlType::Q6_K, {512}}};
  std::vector<std::vector<uint8_t>> data;
  for (size_t i = 0; i < srcs.size(); ++i) {
    size_t n = *tensor_data_bytes(srcs[i].type, srcs[i].dims);
    data.emplace_back(n);
    for (size_t j = 0; j < n; ++j) data.back()[j] = static_cast<uint8_t>(j * 7 + i);
    w.add_tensor(srcs[i].name, srcs[i].type, srcs[i].dims, data.back().data(), n);
  }
  std::string path = test::temp_dir() + "/all.gguf";
  ASSERT_TRUE(w.write(path).ok());

  auto f = open_ok(path);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->version(), 3u);
  ASSERT_EQ(f->metadata().size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(f->metadata()[i].first, values[i].first);
    EXPECT_TRUE(f->metadata()[i].second == values[i].second) << values[i].first;
  }
  EXPECT_EQ(f->find("general.alignment"), nullptr);  // the writer adds no keys of its own
  ASSERT_EQ(f->tensors().size(), srcs.size());
  for (size_t i = 0; i < srcs.size(); ++i) {
    const TensorInfo& t = f->tensors()[i];
    EXPECT_EQ(t.name, srcs[i].name);
    EXPECT_EQ(t.type, srcs[i].type);
    EXPECT_EQ(t.dims, srcs[i].dims);
    EXPECT_EQ(t.offset % 32, 0u);
    ASSERT_EQ(t.size_bytes, data[i].size());
    EXPECT_EQ(std::memcmp(t.data, data[i].data(), t.size_bytes), 0) << t.name;
  }
  auto big = f->get_int("t.u64");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error(), "metadata key 't.u64' value 18446744073709551615 does not fit in int64");
  EXPECT_EQ(*f->get_float("t.u64"), 18446744073709551615.0);
}

TEST(GgufWrite, SetReplacesInPlace) {
  Writer w;
  w.set("a", Value::u32(1));
  w.set("b", Value::str("x"));
  w.set("a", Value::str("replaced"));
  std::string path = test::temp_dir() + "/set.gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto f = open_ok(path);
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].first, "a");
  EXPECT_EQ(*f->get_string("a"), "replaced");
}

TEST(GgufWrite, CustomAlignment) {
  Writer w;
  w.set("general.alignment", Value::u32(256));
  std::vector<float> a(3, 1.0f), b(5, 2.0f);
  w.add_tensor("a", GgmlType::F32, {3}, a.data(), 12);
  w.add_tensor("b", GgmlType::F32, {5}, b.data(), 20);
  std::string path = test::temp_dir() + "/aligned.gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto f = open_ok(path);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->alignment(), 256u);
  EXPECT_EQ(f->data_offset() % 256, 0u);
  EXPECT_EQ(f->tensor("b")->offset, 256u);
  EXPECT_EQ(f->file_size() % 256, 0u);
  EXPECT_EQ(reinterpret_cast<const float*>(f->tensor("b")->data)[4], 2.0f);
}

TEST(GgufWrite, RewritesStories260KExactly) {
  auto src = open_ok(stories_path());
  ASSERT_TRUE(src);
  Writer w;
  w.set_alignment(src->alignment());
  for (const auto& [k, v] : src->metadata()) w.set(k, v);
  for (const TensorInfo& t : src->tensors()) w.add_tensor(t.name, t.type, t.dims, t.data, t.size_bytes);
  std::string path = test::temp_dir() + "/stories-copy.gguf";
  ASSERT_TRUE(w.write(path).ok());

  auto copy = open_ok(path);
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->metadata(), src->metadata());
  ASSERT_EQ(copy->tensors().size(), src->tensors().size());
  for (size_t i = 0; i < src->tensors().size(); ++i) {
    const TensorInfo& a = src->tensors()[i];
    const TensorInfo& b = copy->tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.dims, b.dims);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.offset, b.offset);
    ASSERT_EQ(a.size_bytes, b.size_bytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.size_bytes), 0) << a.name;
  }
  // Same layout rules as the writer that made the original: byte-identical.
  EXPECT_TRUE(read_bytes(path) == read_bytes(stories_path()));

  // Rewriting a file in place from its own mapping works: the rename leaves
  // the mapped old inode intact until the writer is done with it.
  Writer again;
  for (const auto& [k, v] : copy->metadata()) again.set(k, v);
  again.set("general.name", Value::str("rewritten"));
  for (const TensorInfo& t : copy->tensors()) again.add_tensor(t.name, t.type, t.dims, t.data, t.size_bytes);
  ASSERT_TRUE(again.write(path).ok());
  auto rewritten = open_ok(path);
  ASSERT_TRUE(rewritten);
  EXPECT_EQ(*rewritten->get_string("general.name"), "rewritten");
  const TensorInfo* last = rewritten->tensor("blk.4.ffn_norm.weight");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(std::memcmp(last->data, src->tensor("blk.4.ffn_norm.weight")->data, last->size_bytes), 0);
}

bool has_temp_files(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp-") != std::string::npos) return true;
  }
  return false;
}

TEST(GgufWrite, ReplacesAnExistingFileAtomically) {
  std::string dir = test::temp_dir();
  std::string path = dir + "/model.gguf";
  std::ofstream(path) << "old contents";
  Writer w;
  w.set("k", Value::u32(1));
  ASSERT_TRUE(w.write(path).ok());
  EXPECT_TRUE(File::open(path).ok());
  EXPECT_FALSE(has_temp_files(dir));
}

void expect_write_error(const Writer& w, const std::string& needle) {
  std::string dir = test::temp_dir();
  Status s = w.write(dir + "/bad.gguf");
  ASSERT_FALSE(s.ok()) << needle;
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/bad.gguf"));
  EXPECT_FALSE(has_temp_files(dir));
}

TEST(GgufWrite, RejectsInconsistentInput) {
  std::vector<float> data(64);
  {
    Writer w;
    w.add_tensor("t", GgmlType::F32, {8}, data.data(), 4);
    expect_write_error(w, "tensor 't': 4 bytes of data given, its shape needs 32");
  }
  {
    Writer w;
    w.add_tensor("t", GgmlType::F32, {8}, data.data(), 32);
    w.add_tensor("t", GgmlType::F32, {8}, data.data(), 32);
    expect_write_error(w, "duplicate tensor name 't'");
  }
  {
    Writer w;
    w.add_tensor("q", GgmlType::Q4_0, {16}, data.data(), 9);
    expect_write_error(w, "tensor 'q': row length 16 is not a multiple of the q4_0 block size 32");
  }
  {
    Writer w;
    w.add_tensor("z", GgmlType::F32, {0, 4}, data.data(), 0);
    expect_write_error(w, "dimension 0 is 0");
  }
  {
    Writer w;
    w.add_tensor("big", GgmlType::F32, {1, 1, 1, 1, 1}, data.data(), 4);
    expect_write_error(w, "5 dimensions");
  }
  {
    Writer w;
    w.set("k", scalar(ValueType::UINT8, 300));
    expect_write_error(w, "metadata key 'k': value 300 does not fit in uint8");
  }
  {
    Writer w;
    w.set("k", scalar(static_cast<ValueType>(13), 0));
    expect_write_error(w, "unknown value type 13");
  }
  {
    Writer w;
    w.set_alignment(64);
    expect_write_error(w, "needs the metadata key general.alignment");
  }
  {
    Writer w;
    w.set("general.alignment", Value::u32(64));
    w.set_alignment(128);
    expect_write_error(w, "general.alignment");
  }
  {
    Writer w;
    w.set_alignment(48);
    expect_write_error(w, "alignment 48 is not a power of two");
  }
}

TEST(GgufWrite, ReportsFilesystemErrors) {
  Writer w;
  w.set("k", Value::u32(1));
  Status s = w.write(test::temp_dir() + "/no/such/dir/x.gguf");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot create"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
  // A directory in the way of the rename: the temp file must not be left behind.
  std::string dir = test::temp_dir();
  fs::create_directory(dir + "/taken.gguf");
  fs::create_directory(dir + "/taken.gguf/child");
  Status busy = w.write(dir + "/taken.gguf");
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.message().find("cannot rename"), std::string::npos) << busy.message();
  EXPECT_FALSE(has_temp_files(dir));
}

}  // namespace
}  // namespace gs::gguf
