// The local store: digests, blobs, atomic commits, references, refcounted
// removal, prune, and manifest checks against malicious input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/digest.h"
#include "store/store.h"
#include "test_util.h"

namespace gs::store {
namespace {

namespace fs = std::filesystem;

TEST(StoreDigest, KnownVectors) {
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update("a", 1);
  h.update("bc", 2);
  EXPECT_EQ(h.finish(), sha256_digest("abc"));
  const std::string path = test::temp_dir() + "/f";
  std::ofstream(path) << "abc";
  auto file = sha256_file(path);
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(*file, sha256_digest("abc"));
  EXPECT_FALSE(sha256_file("/nonexistent/x").ok());
}

TEST(StoreDigest, Validation) {
  EXPECT_TRUE(is_valid_digest(sha256_digest("x")));
  EXPECT_FALSE(is_valid_digest("sha256:../../etc/passwd"));
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(65, 'a')));
  EXPECT_FALSE(is_valid_digest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(check_digest("sha256:\n").ok());
}

// A minimal model: a config blob, a "GGUF" layer and a licence, stored and
// described by a manifest.
struct TestModel {
  Manifest manifest;
  std::string gguf_digest, license_digest;
};

std::string descriptor_json(std::string_view type, const std::string& digest, size_t size) {
  return fmt::format(R"({{"mediaType":"{}","digest":"{}","size":{}}})", type, digest, size);
}

TestModel put_model(Store& store, const std::string& weights, const std::string& license = "MIT") {
  TestModel t;
  const std::string config = R"({"config":{"format":"gguf"}})";
  auto config_digest = store.put_blob(config);
  auto gguf = store.put_blob(weights);
  auto lic = store.put_blob(license);
  EXPECT_TRUE(config_digest.ok() && gguf.ok() && lic.ok());
  t.gguf_digest = *gguf;
  t.license_digest = *lic;
  const std::string raw =
      fmt::format(R"({{"schemaVersion":2,"mediaType":"{}","config":{},"layers":[{},{}]}})",
                  media::kOciManifest, descriptor_json(media::kModelConfig, *config_digest, config.size()),
                  descriptor_json(media::kGguf, *gguf, weights.size()),
                  descriptor_json(media::kLicense, *lic, license.size()));
  auto m = parse_manifest(raw);
  EXPECT_TRUE(m.ok()) << m.error();
  t.manifest = *m;
  return t;
}

Reference make_ref(std::string_view text) {
  auto r = parse_reference(text);
  EXPECT_TRUE(r.ok()) << r.error();
  return *r;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = test::temp_dir();
    auto s = Store::open(home_);
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(*s);
  }
  fs::path blobs() const { return fs::path(home_) / "models" / "blobs" / "sha256"; }
  size_t count_files(const fs::path& dir) const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& f : fs::directory_iterator(dir)) ++n;
    return n;
  }
  std::string home_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, PutBlobAndFile) {
  auto d = store_->put_blob("hello");
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(*d, sha256_digest("hello"));
  EXPECT_TRUE(store_->has_blob(*d));
  EXPECT_EQ(*store_->read_blob(*d), "hello");
  const std::string path = test::temp_dir() + "/weights";
  std::ofstream(path) << std::string(5 << 20, 'w');  // past one copy buffer
  auto f = store_->put_file(path);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(*f, *sha256_file(path));
  EXPECT_EQ(fs::file_size(store_->blob_path(*f)), 5u << 20);
  EXPECT_TRUE(store_->put_file(path).ok()) << "storing the same file twice is fine";
  EXPECT_EQ(count_files(blobs()), 2u) << "no temporary files left behind";
  EXPECT_FALSE(store_->read_blob("sha256:../../etc/passwd").ok());
  EXPECT_FALSE(store_->put_file("/nonexistent").ok());
}

TEST_F(StoreTest, CommitPartialVerifies) {
  const std::string good = "the real bytes";
  const std::string digest = sha256_digest(good);
  std::ofstream(store_->partial_path(digest)) << "tampered bytes";
  Status bad = store_->commit_partial(digest, good.size());
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("failed verification"), std::string::npos) << bad.message();
  EXPECT_FALSE(store_->has_blob(digest));
  EXPECT_FALSE(fs::exists(store_->partial_path(digest))) << "nothing unverified stays behind";
  EXPECT_EQ(count_files(blobs()), 0u);

  std::ofstream(store_->partial_path(digest)) << good;
  EXPECT_FALSE(store_->commit_partial(digest, good.size() + 1).ok()) << "size must match too";
  std::ofstream(store_->partial_path(digest)) << good;
  ASSERT_TRUE(store_->commit_partial(digest, good.size()).ok());
  EXPECT_TRUE(store_->has_blob(digest));
  EXPECT_EQ(*store_->read_blob(digest), good);
}

TEST_F(StoreTest, TagGetListRemove) {
  TestModel a = put_model(*store_, "weights A");
  ASSERT_TRUE(store_->tag(make_ref("ai/a"), a.manifest).ok());
  ASSERT_TRUE(store_->tag(make_ref("team/a:v1"), a.manifest).ok());
  auto entry = store_->get(make_ref("ai/a"));
  ASSERT_TRUE(entry.ok()) << entry.error();
  EXPECT_EQ(entry->manifest.digest, a.manifest.digest);
  EXPECT_EQ(entry->tags, (std::vector<std::string>{"ai/a:latest", "team/a:v1"}));
  EXPECT_EQ(entry->config_json, R"({"config":{"format":"gguf"}})");
  EXPECT_EQ(entry->size, entry->manifest.config.size + 9 + 3);
  auto by_digest = store_->get(make_ref("ai/whatever@" + a.manifest.digest));
  ASSERT_TRUE(by_digest.ok()) << by_digest.error();
  auto gguf = store_->gguf_path(make_ref("team/a:v1"));
  ASSERT_TRUE(gguf.ok());
  EXPECT_EQ(*gguf, store_->blob_path(a.gguf_digest));

  TestModel b = put_model(*store_, "weights B");  // shares the licence blob with A
  ASSERT_TRUE(store_->tag(make_ref("ai/b"), b.manifest).ok());
  EXPECT_EQ(store_->list().size(), 2u);

  ASSERT_TRUE(store_->remove(make_ref("ai/a")).ok());
  EXPECT_TRUE(store_->has_blob(a.gguf_digest)) << "team/a:v1 still uses it";
  ASSERT_TRUE(store_->remove(make_ref("team/a:v1")).ok());
  EXPECT_FALSE(store_->has_blob(a.gguf_digest));
  EXPECT_FALSE(store_->has_blob(a.manifest.digest));
  EXPECT_TRUE(store_->has_blob(a.license_digest)) << "ai/b uses the same licence";
  EXPECT_TRUE(store_->gguf_path(make_ref("ai/b")).ok());
  EXPECT_FALSE(store_->get(make_ref("ai/a")).ok());
  Status missing = store_->remove(make_ref("ai/a"));
  EXPECT_NE(missing.message().find("not found"), std::string::npos) << missing.message();
}

TEST_F(StoreTest, TagRefusesMissingBlobsAndWrongDigest) {
  TestModel a = put_model(*store_, "weights A");
  EXPECT_FALSE(store_->tag(make_ref("ai/a@sha256:" + std::string(64, '0')), a.manifest).ok());
  ASSERT_EQ(::unlink(store_->blob_path(a.gguf_digest).c_str()), 0);
  Status s = store_->tag(make_ref("ai/a"), a.manifest);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not in the store"), std::string::npos) << s.message();
  EXPECT_TRUE(store_->list().empty());
}

TEST_F(StoreTest, PruneAndDiskUsage) {
  TestModel a = put_model(*store_, "weights A");
  ASSERT_TRUE(store_->tag(make_ref("ai/a"), a.manifest).ok());
  auto orphan = store_->put_blob("nobody uses me");
  ASSERT_TRUE(orphan.ok());
  // An interrupted download nobody is resuming, and one in progress.
  const std::string idle = sha256_digest("idle"), busy = sha256_digest("busy");
  std::ofstream(store_->partial_path(idle)) << "id";
  std::ofstream(store_->partial_path(busy)) << "bu";
  auto busy_lock = store_->lock_blob(busy);
  ASSERT_TRUE(busy_lock.ok());

  auto usage = store_->disk_usage();
  ASSERT_TRUE(usage.ok()) << usage.error();
  EXPECT_EQ(usage->blobs, 5u);  // manifest, config, gguf, licence, orphan
  EXPECT_EQ(usage->unreferenced_blobs, 1u);
  EXPECT_EQ(usage->unreferenced_bytes, 14u);
  EXPECT_EQ(usage->partial_bytes, 4u);

  auto freed = store_->prune();
  ASSERT_TRUE(freed.ok()) << freed.error();
  EXPECT_EQ(freed->unreferenced_blobs, 1u);
  EXPECT_EQ(freed->partial_bytes, 2u);
  EXPECT_FALSE(store_->has_blob(*orphan));
  EXPECT_FALSE(fs::exists(store_->partial_path(idle)));
  EXPECT_TRUE(fs::exists(store_->partial_path(busy)));
  EXPECT_TRUE(store_->gguf_path(make_ref("ai/a")).ok());
}

TEST_F(StoreTest, LeftoverTempFilesDoNotCorrupt) {
  TestModel a = put_model(*store_, "weights A");
  ASSERT_TRUE(store_->tag(make_ref("ai/a"), a.manifest).ok());
  // A process killed mid-write leaves its temporary files; the index and
  // blobs in place are untouched by them.
  const fs::path models = fs::path(home_) / "models";
  std::ofstream(models / ".tmp-999-0") << R"({"schemaVersion":2,"manif)";
  std::ofstream(blobs() / ".tmp-999-1") << "half a blob";
  auto reopened = Store::open(home_);
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ((*reopened)->list().size(), 1u);
  EXPECT_TRUE((*reopened)->gguf_path(make_ref("ai/a")).ok());
  ASSERT_TRUE((*reopened)->prune().ok());
  EXPECT_TRUE(fs::exists(blobs() / ".tmp-999-1")) << "a young temp file may belong to a running writer";
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(blobs() / ".tmp-999-1", old);
  fs::last_write_time(models / ".tmp-999-0", old);
  ASSERT_TRUE((*reopened)->prune().ok());
  EXPECT_FALSE(fs::exists(blobs() / ".tmp-999-1"));
  EXPECT_FALSE(fs::exists(models / ".tmp-999-0"));
  EXPECT_EQ((*reopened)->list().size(), 1u);
}

TEST_F(StoreTest, CorruptIndexIsAnErrorNotAnEmptyStore) {
  TestModel a = put_model(*store_, "weights A");
  ASSERT_TRUE(store_->tag(make_ref("ai/a"), a.manifest).ok());
  std::ofstream(fs::path(home_) / "models" / "index.json") << "{garbage";
  auto got = store_->get(make_ref("ai/a"));
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().find("corrupt store index"), std::string::npos) << got.error();
  EXPECT_FALSE(store_->prune().ok()) << "prune must not delete blobs it cannot account for";
  EXPECT_TRUE(store_->has_blob(a.gguf_digest));
}

// ---- parse_manifest

std::string manifest_with(const std::string& config, const std::string& layers,
                          std::string_view type = media::kOciManifest) {
  return fmt::format(R"({{"schemaVersion":2,"mediaType":"{}","config":{},"layers":[{}]}})", type, config,
                     layers);
}

TEST(StoreManifest, AcceptsDockerAndCncfModels) {
  const std::string d = sha256_digest("x");
  auto docker = parse_manifest(
      manifest_with(descriptor_json(media::kModelConfig, d, 10),
                    descriptor_json(media::kGguf, d, 1) + "," + descriptor_json(media::kChatTemplate, d, 1)));
  ASSERT_TRUE(docker.ok()) << docker.error();
  EXPECT_EQ(docker->gguf_layers().size(), 1u);
  auto cncf = parse_manifest(manifest_with(descriptor_json(media::kCncfConfig, d, 10),
                                           descriptor_json(media::kCncfGguf, d, 1), media::kDockerManifest));
  ASSERT_TRUE(cncf.ok()) << cncf.error();
  EXPECT_EQ(cncf->digest, sha256_digest(cncf->raw));
}

TEST(StoreManifest, RejectsMaliciousManifests) {
  const std::string d = sha256_digest("x");
  const std::string config = descriptor_json(media::kModelConfig, d, 10);
  const std::string gguf = descriptor_json(media::kGguf, d, 1);
  std::string many_layers = gguf;
  for (int i = 0; i < 1100; ++i) many_layers += "," + gguf;
  const std::pair<std::string, std::string> cases[] = {
      {"", "not JSON"},
      {"[]", "not a JSON object"},
      {manifest_with(config, descriptor_json(media::kGguf, d, 1ull << 41)), "1 TiB"},
      {manifest_with(config, R"({"mediaType":"application/vnd.docker.ai.gguf.v3","digest":"d","size":-1})"),
       "invalid digest"},
      {manifest_with(config,
                     R"({"mediaType":"application/vnd.docker.ai.gguf.v3","digest":"sha256:x","size":-1})"),
       "invalid digest"},
      {manifest_with(config, descriptor_json(media::kGguf, "sha256:../../etc/passwd", 1)), "invalid digest"},
      {manifest_with(config, fmt::format(R"({{"mediaType":"{}","digest":"{}","size":-5}})", media::kGguf, d)),
       "negative size"},
      {manifest_with(config,
                     fmt::format(R"({{"mediaType":"{}","digest":"{}","size":"1"}})", media::kGguf, d)),
       "not an integer"},
      {manifest_with(config, descriptor_json("application/x-evil", d, 1) + "," + gguf), "unknown media type"},
      {manifest_with(descriptor_json("application/vnd.oci.image.config.v1+json", d, 1), gguf),
       "not a model config"},
      {manifest_with(config, gguf, "application/vnd.evil+json"), "unsupported manifest media type"},
      {manifest_with(config, gguf, "application/vnd.oci.image.index.v1+json"), "manifest lists"},
      {manifest_with(config, descriptor_json(media::kLicense, d, 1)), "no GGUF layer"},
      {manifest_with(config, many_layers), "more than 1024 layers"},
      {R"({"schemaVersion":1,"config":{},"layers":[]})", "schemaVersion"},
  };
  for (const auto& [raw, expected] : cases) {
    auto m = parse_manifest(raw);
    ASSERT_FALSE(m.ok()) << raw.substr(0, 200);
    EXPECT_NE(m.error().find(expected), std::string::npos) << m.error();
    EXPECT_EQ(m.error().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace gs::store
