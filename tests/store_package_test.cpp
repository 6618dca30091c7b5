// Packaging GGUF files as Docker model-spec artifacts, and scanning them.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "gguf/gguf.h"
#include "store/digest.h"
#include "store/package.h"
#include "store/scan.h"
#include "test_util.h"

namespace gs::store {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string stories() { return test::shared_path("models/stories260K.gguf"); }

std::unique_ptr<Store> fresh_store() {
  auto s = Store::open(test::temp_dir());
  EXPECT_TRUE(s.ok()) << s.error();
  return std::move(*s);
}

// A copy of stories260K with one metadata key changed.
std::string rewritten_stories(const std::string& key, gguf::Value value) {
  auto src = gguf::File::open(stories());
  EXPECT_TRUE(src.ok());
  gguf::Writer w;
  for (const auto& [k, v] : (*src)->metadata()) w.set(k, v);
  w.set(key, std::move(value));
  for (const auto& t : (*src)->tensors()) w.add_tensor(t.name, t.type, t.dims, t.data, t.size_bytes);
  const std::string path = test::temp_dir() + "/rewritten.gguf";
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

TEST(StorePackage, ReproducibleDigestsAndModelSpecConfig) {
  const std::string dir = test::temp_dir();
  std::ofstream(dir + "/LICENSE") << "MIT License\nCopyright (c) the authors\n";
  std::ofstream(dir + "/template.jinja") << "{% for m in messages %}{{ m.content }}{% endfor %}";
  PackageInputs in;
  in.gguf_files = {stories()};
  in.licenses = {dir + "/LICENSE"};
  in.chat_template = dir + "/template.jinja";
  in.context_size = 512;
  auto a_store = fresh_store(), b_store = fresh_store();
  auto a = package_model(*a_store, in);
  ASSERT_TRUE(a.ok()) << a.error();
  auto b = package_model(*b_store, in);
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(a->digest, b->digest) << "same inputs, same digests";
  EXPECT_EQ(a->raw, b->raw);

  EXPECT_EQ(a->media_type, media::kOciManifest);
  EXPECT_EQ(a->config.media_type, media::kModelConfig);
  ASSERT_EQ(a->layers.size(), 3u);
  EXPECT_EQ(a->layers[0].media_type, media::kGguf);
  EXPECT_EQ(a->layers[1].media_type, media::kLicense);
  EXPECT_EQ(a->layers[2].media_type, media::kChatTemplate);
  const std::string gguf_digest = *sha256_file(stories());
  EXPECT_EQ(a->layers[0].digest, gguf_digest);
  EXPECT_EQ(a->layers[0].size, fs::file_size(stories()));
  EXPECT_TRUE(a_store->has_blob(a->digest));

  auto config_text = a_store->read_blob(a->config.digest);
  ASSERT_TRUE(config_text.ok());
  const json::object config = json::parse(*config_text).as_object();
  const json::object& c = config.at("config").as_object();
  EXPECT_EQ(c.at("format"), "gguf");
  EXPECT_EQ(c.at("architecture"), "llama");
  EXPECT_FALSE(c.at("parameters").as_string().empty());
  EXPECT_EQ(c.at("size"), json::value(std::to_string(fs::file_size(stories()))));
  EXPECT_EQ(c.at("context_size"), 512);
  EXPECT_EQ(c.at("gguf").at("architecture"), "llama");
  EXPECT_EQ(config.at("rootfs").at("type"), "rootfs");
  EXPECT_EQ(config.at("rootfs").at("diff_ids").as_array().at(0), json::value(gguf_digest));
  EXPECT_EQ(config.at("files").as_array().size(), 3u);
  const std::string created(config.at("descriptor").at("created").as_string());
  EXPECT_EQ(created.size(), 20u) << created;  // 2024-01-02T03:04:05Z
  const ConfigSummary summary = summarize_config(*config_text);
  EXPECT_EQ(summary.architecture, "llama");
  EXPECT_EQ(summary.quantization, "F32") << "stories260K has no general.file_type: the dominant tensor type";
  EXPECT_EQ(summary.created, created);
  EXPECT_EQ(summary.context_size, 512);
}

TEST(StorePackage, RefusesBadGgufAndStoresNothing) {
  const std::string bad = test::temp_dir() + "/truncated.gguf";
  fs::copy_file(stories(), bad);
  fs::resize_file(bad, fs::file_size(bad) / 2);
  auto s = fresh_store();
  PackageInputs in;
  in.gguf_files = {bad};
  auto m = package_model(*s, in);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("truncated.gguf"), std::string::npos) << m.error();
  auto usage = s->disk_usage();
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->blobs, 0u);
  EXPECT_FALSE(package_model(*s, PackageInputs{}).ok());
}

TEST(StorePackage, SummarizesDockerAndCncfConfigs) {
  const ConfigSummary docker = summarize_config(
      R"({"config":{"format":"gguf","quantization":"Q4_K_M","parameters":"361.82 M","architecture":"llama",)"
      R"("size":"256.35 MiB"},"descriptor":{"created":"2025-03-01T10:00:00Z"}})");
  EXPECT_EQ(docker.quantization, "Q4_K_M");
  EXPECT_EQ(docker.parameters, "361.82 M");
  EXPECT_EQ(docker.created, "2025-03-01T10:00:00Z");
  const ConfigSummary spec = summarize_config(
      R"({"config":{"format":"gguf","gguf":{"architecture":"qwen2","parameter_count":"1.10 B","quantization":"Q4_0"}},)"
      R"("descriptor":{"createdAt":"2025-01-01T00:00:00Z"}})");
  EXPECT_EQ(spec.architecture, "qwen2");
  EXPECT_EQ(spec.parameters, "1.10 B");
  EXPECT_EQ(spec.created, "2025-01-01T00:00:00Z");
  EXPECT_EQ(summarize_config("not json").architecture, "");
  EXPECT_EQ(file_type_name(15), "Q4_K_M");
  EXPECT_EQ(format_parameter_count(135'000'000), "135.00M");
}

TEST(StoreScan, CleanFile) {
  auto r = scan_gguf_file(stories());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front();
  bool has_arch = false;
  for (const auto& line : r->info) has_arch |= line == "general.architecture: llama";
  EXPECT_TRUE(has_arch);
}

TEST(StoreScan, WarnsAboutTrailingBytesAndControlCharacters) {
  const std::string trailing = test::temp_dir() + "/trailing.gguf";
  fs::copy_file(stories(), trailing);
  std::ofstream(trailing, std::ios::app) << std::string(4096, 'x');
  auto r = scan_gguf_file(trailing);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("4096 bytes after the last tensor"), std::string::npos) << r->warnings[0];

  auto evil = scan_gguf_file(rewritten_stories("general.name", gguf::Value::str("story\x1b[2Jteller")));
  ASSERT_TRUE(evil.ok()) << evil.error();
  ASSERT_EQ(evil->warnings.size(), 1u);
  EXPECT_NE(evil->warnings[0].find("general.name contains control character 0x1b"), std::string::npos);
  for (const auto& line : evil->info) EXPECT_EQ(line.find('\x1b'), std::string::npos) << "printed escaped";
}

TEST(StoreScan, ChatTemplateChecks) {
  EXPECT_TRUE(
      check_chat_template("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}").empty());
  auto undefined = check_chat_template("{{ raise_hell(messages) }}");
  ASSERT_EQ(undefined.size(), 1u);
  EXPECT_NE(undefined[0].find("fails on a sample conversation"), std::string::npos) << undefined[0];
  auto syntax = check_chat_template("{% if %}");
  ASSERT_EQ(syntax.size(), 1u);
  EXPECT_NE(syntax[0].find("does not parse"), std::string::npos) << syntax[0];
  auto in_gguf =
      scan_gguf_file(rewritten_stories("tokenizer.chat_template", gguf::Value::str("{{ nope() }}")));
  ASSERT_TRUE(in_gguf.ok());
  EXPECT_EQ(in_gguf->warnings.size(), 1u);
}

TEST(StoreScan, StoredModelBlobsAreRehashed) {
  auto s = fresh_store();
  const std::string dir = test::temp_dir();
  std::ofstream(dir + "/LICENSE") << "Apache License\nVersion 2.0\n";
  PackageInputs in;
  in.gguf_files = {stories()};
  in.licenses = {dir + "/LICENSE"};
  auto m = package_model(*s, in);
  ASSERT_TRUE(m.ok()) << m.error();
  auto ref = parse_reference("ai/stories:v1");
  ASSERT_TRUE(s->tag(*ref, *m).ok());
  auto clean = scan_stored_model(*s, *ref);
  ASSERT_TRUE(clean.ok()) << clean.error();
  bool license_shown = false;
  for (const auto& line : clean->info) license_shown |= line == "  Apache License";
  EXPECT_TRUE(license_shown);

  // Flip one byte of the stored GGUF: same size, different content.
  const fs::path blob = s->blob_path(m->layers[0].digest);
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(blob) - 10));
    f.put('\x42');
  }
  auto corrupt = scan_stored_model(*s, *ref);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.error().find("is corrupt"), std::string::npos) << corrupt.error();
}

}  // namespace
}  // namespace gs::store
