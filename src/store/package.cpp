#include "store/package.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>

#include <boost/json.hpp>

#include "gguf/gguf.h"
#include "store/digest.h"

namespace gs::store {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct GgufFacts {
  std::string architecture, quantization, size_label;
  uint64_t parameters = 0;
};

// Without general.file_type: the type holding most of the weight bytes ("F32", "Q8_0").
std::string dominant_type_name(const gguf::File& file) {
  std::map<GgmlType, uint64_t> bytes;
  for (const gguf::TensorInfo& t : file.tensors()) bytes[t.type] += t.size_bytes;
  if (bytes.empty()) return "";
  const auto top = std::max_element(bytes.begin(), bytes.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; });
  std::string name(traits(top->first).name);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

Result<GgufFacts> read_gguf_facts(const std::vector<fs::path>& shards) {
  GgufFacts facts;
  for (size_t i = 0; i < shards.size(); ++i) {
    auto file = gguf::File::open(shards[i].string());
    if (!file.ok()) return file.status().with_context(shards[i].string());
    for (const gguf::TensorInfo& t : (*file)->tensors()) facts.parameters += t.element_count();
    if (i > 0) continue;  // shards after the first carry little metadata
    auto arch = (*file)->get_string("general.architecture");
    if (!arch.ok()) return arch.status().with_context(shards[i].string());
    facts.architecture = *arch;
    auto ft = (*file)->get_int_or("general.file_type", -1);
    facts.quantization = ft.ok() ? file_type_name(*ft) : "";
    if (facts.quantization.empty()) facts.quantization = dominant_type_name(**file);
    if (auto label = (*file)->get_string("general.size_label"); label.ok()) facts.size_label = *label;
  }
  return facts;
}

// The first GGUF's modification time: a reproducible creation date (packaging
// the same file twice gives the same config, hence the same digests).
std::string rfc3339_mtime(const fs::path& file) {
  std::error_code ec;
  const auto t = fs::last_write_time(file, ec);
  // file_clock and system_clock differ by a constant; GCC 12 lacks clock_cast.
  const auto sys = t - fs::file_time_type::clock::now() + std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(sys + std::chrono::milliseconds(500)));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct Layer {
  std::string_view media_type;
  std::string digest;
  uint64_t size;
};

Result<Layer> store_layer(Store& store, const fs::path& file, std::string_view media_type) {
  auto digest = store.put_file(file);
  if (!digest.ok()) return digest.status();
  std::error_code ec;
  const uint64_t size = fs::file_size(store.blob_path(*digest), ec);
  if (ec) return Error("cannot stat the stored copy of {}", file.string());
  return Layer{media_type, *digest, size};
}

// Both the fields Docker Model Runner writes (config.{architecture,
// parameters, quantization, size}, descriptor.created, rootfs.diff_ids) and
// those of the model-spec document (config.gguf, descriptor.createdAt, files),
// so that either kind of reader finds what it looks for.
std::string config_json(const GgufFacts& facts, const std::vector<Layer>& layers, uint64_t gguf_bytes,
                        const std::string& created, int64_t context_size) {
  const std::string parameters =
      facts.size_label.empty() ? format_parameter_count(facts.parameters) : facts.size_label;
  json::object config{{"format", "gguf"},
                      {"format_version", "3"},
                      {"quantization", facts.quantization},
                      {"parameters", parameters},
                      {"architecture", facts.architecture},
                      {"size", std::to_string(gguf_bytes)}};
  if (context_size > 0) config["context_size"] = context_size;
  config["gguf"] = json::object{{"architecture", facts.architecture},
                                {"parameter_count", parameters},
                                {"quantization", facts.quantization}};
  json::array diff_ids, files;
  for (const Layer& l : layers) {
    diff_ids.push_back(json::value(l.digest));
    files.push_back(json::object{{"diffID", l.digest}, {"type", l.media_type}});
  }
  const json::object doc{{"config", std::move(config)},
                         {"descriptor", json::object{{"created", created}, {"createdAt", created}}},
                         {"rootfs", json::object{{"type", "rootfs"}, {"diff_ids", std::move(diff_ids)}}},
                         {"files", std::move(files)}};
  return json::serialize(doc);
}

json::object descriptor(std::string_view media_type, const std::string& digest, uint64_t size) {
  return json::object{{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

// The first of `keys` that `o` holds as a string (or a number, printed).
std::string first_string(const json::object* o, std::initializer_list<std::string_view> keys) {
  if (!o) return "";
  for (std::string_view k : keys) {
    const json::value* v = o->if_contains(k);
    if (v && v->is_string()) return std::string(v->as_string());
    if (v && v->is_number()) return json::serialize(*v);
  }
  return "";
}

const json::object* object_at(const json::object* o, std::string_view key) {
  const json::value* v = o ? o->if_contains(key) : nullptr;
  return v ? v->if_object() : nullptr;
}

}  // namespace

ConfigSummary summarize_config(std::string_view config_json) {
  ConfigSummary s;
  boost::system::error_code ec;
  const json::value doc = json::parse(config_json, ec);
  if (ec || !doc.is_object()) return s;
  const json::object* config = object_at(&doc.as_object(), "config");
  const json::object* gguf = object_at(config, "gguf");
  const json::object* descriptor = object_at(&doc.as_object(), "descriptor");
  auto pick = [&](std::initializer_list<std::string_view> config_keys,
                  std::initializer_list<std::string_view> gguf_keys) {
    std::string v = first_string(config, config_keys);
    return v.empty() ? first_string(gguf, gguf_keys) : v;
  };
  s.format = first_string(config, {"format"});
  s.architecture = pick({"architecture"}, {"architecture", "general.architecture"});
  s.parameters = pick({"parameters", "paramSize"}, {"parameter_count", "general.size_label"});
  s.quantization = pick({"quantization"}, {"quantization", "general.file_type"});
  s.created = first_string(descriptor, {"created", "createdAt"});
  const json::value* ctx = config ? config->if_contains("context_size") : nullptr;
  if (ctx && ctx->is_int64()) s.context_size = ctx->as_int64();
  return s;
}

std::string file_type_name(int64_t file_type) {
  static constexpr std::pair<int, std::string_view> kNames[] = {
      {0, "F32"},     {1, "F16"},     {2, "Q4_0"},     {3, "Q4_1"},    {7, "Q8_0"},     {8, "Q5_0"},
      {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"},  {12, "Q3_K_M"}, {13, "Q3_K_L"},  {14, "Q4_K_S"},
      {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"},  {18, "Q6_K"},   {19, "IQ2_XXS"}, {20, "IQ2_XS"},
      {21, "Q2_K_S"}, {22, "IQ3_XS"}, {23, "IQ3_XXS"}, {24, "IQ1_S"},  {25, "IQ4_NL"},  {26, "IQ3_S"},
      {27, "IQ3_M"},  {28, "IQ2_S"},  {29, "IQ2_M"},   {30, "IQ4_XS"}, {31, "IQ1_M"},   {32, "BF16"},
      {36, "TQ1_0"},  {37, "TQ2_0"},
  };
  for (const auto& [value, name] : kNames) {
    if (value == file_type) return std::string(name);
  }
  return "";
}

std::string format_parameter_count(uint64_t count) {
  const double n = static_cast<double>(count);
  if (count >= 1'000'000'000) return fmt::format("{:.2f}B", n / 1e9);
  if (count >= 1'000'000) return fmt::format("{:.2f}M", n / 1e6);
  if (count >= 1'000) return fmt::format("{:.2f}K", n / 1e3);
  return std::to_string(count);
}

Result<Manifest> package_model(Store& store, const PackageInputs& inputs) {
  if (inputs.gguf_files.empty()) return Error("no GGUF file to package");
  GS_ASSIGN_OR_RETURN(GgufFacts facts, read_gguf_facts(inputs.gguf_files));
  std::vector<Layer> layers;
  uint64_t gguf_bytes = 0;
  for (const fs::path& f : inputs.gguf_files) {
    GS_ASSIGN_OR_RETURN(Layer l, store_layer(store, f, media::kGguf));
    gguf_bytes += l.size;
    layers.push_back(std::move(l));
  }
  for (const fs::path& f : inputs.licenses) {
    GS_ASSIGN_OR_RETURN(Layer l, store_layer(store, f, media::kLicense));
    layers.push_back(std::move(l));
  }
  if (!inputs.chat_template.empty()) {
    GS_ASSIGN_OR_RETURN(Layer l, store_layer(store, inputs.chat_template, media::kChatTemplate));
    layers.push_back(std::move(l));
  }
  const std::string config =
      config_json(facts, layers, gguf_bytes, rfc3339_mtime(inputs.gguf_files.front()), inputs.context_size);
  GS_ASSIGN_OR_RETURN(std::string config_digest, store.put_blob(config));
  json::array layer_descriptors;
  for (const Layer& l : layers) layer_descriptors.push_back(descriptor(l.media_type, l.digest, l.size));
  const json::object manifest{{"schemaVersion", 2},
                              {"mediaType", media::kOciManifest},
                              {"config", descriptor(media::kModelConfig, config_digest, config.size())},
                              {"layers", std::move(layer_descriptors)}};
  GS_ASSIGN_OR_RETURN(Manifest m, parse_manifest(json::serialize(manifest)));
  GS_RETURN_IF_ERROR(store.put_blob(m.raw).status());
  return m;
}

}  // namespace gs::store
