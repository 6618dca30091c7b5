// The registry client against a fake registry (the project's own HTTP server)
// that can demand tokens, fail, ignore Range or lie about digests; and
// Hugging Face pulls against a fake hub.
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "http/server.h"
#include "registry/auth.h"
#include "registry/registry.h"
#include "registry_fixtures.h"
#include "test_util.h"

namespace gs::registry {
namespace {

using namespace std::chrono_literals;

class FakeRegistry {
 public:
  test::Artifact artifact = test::make_artifact(test::pseudo_random_bytes(300'000, 1));
  std::string repo = "team/m";
  std::atomic<int> fail_remaining{0};
  int fail_status = 503;
  std::string retry_after;
  bool require_token = false;
  std::string expected_basic;  // "user:pass" the token endpoint wants, or empty
  bool ignore_range = false;
  std::string wrong_manifest_digest;
  std::string layer_override;  // served instead of the real layer bytes
  std::string hf_file;         // what the fake hub serves as m-Q4_K_M.gguf
  std::string hf_token_seen;
  std::atomic<int> requests{0}, token_requests{0};
  std::mutex mutex;
  std::vector<std::string> ranges;

  FakeRegistry() {
    auto created = http::Server::create({}, [this](http::Request r, std::shared_ptr<http::ResponseWriter> w) {
      handle(std::move(r), std::move(w));
    });
    EXPECT_TRUE(created.ok());
    server_ = std::move(*created);
    thread_ = std::thread([this] { server_->run(); });
  }
  ~FakeRegistry() {
    server_->stop(0ms);
    thread_.join();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  std::string url() const { return "http://" + host(); }

 private:
  void handle(http::Request r, std::shared_ptr<http::ResponseWriter> w) {
    if (r.path == "/token") return token(r, w);
    if (r.path.starts_with("/api/models/") || r.path.find("/resolve/main/") != std::string::npos ||
        r.path.starts_with("/cdn/")) {
      return hub(r, w);
    }
    ++requests;
    if (fail_remaining > 0) {
      --fail_remaining;
      http::Headers h;
      if (!retry_after.empty()) h.emplace_back("Retry-After", retry_after);
      return w->send(fail_status, "application/json",
                     R"({"errors":[{"code":"UNAVAILABLE","message":"try later"}]})", h);
    }
    if (require_token && r.header("Authorization") != "Bearer tok123") {
      return w->send(
          401, "application/json", "{}",
          {{"WWW-Authenticate",
            "Bearer realm=\"" + url() + "/token\",service=\"fake\",scope=\"repository:" + repo + ":pull\""}});
    }
    const std::string prefix = "/v2/" + repo + "/";
    if (r.path.starts_with(prefix + "manifests/")) {
      return w->send(200, std::string(store::media::kOciManifest), artifact.manifest,
                     {{"Docker-Content-Digest",
                       wrong_manifest_digest.empty() ? artifact.digest : wrong_manifest_digest}});
    }
    if (r.path.starts_with(prefix + "blobs/")) {
      const std::string digest = r.path.substr(prefix.size() + 6);
      if (digest == store::sha256_digest(artifact.config)) return send_ranged(r, w, artifact.config);
      if (digest == store::sha256_digest(artifact.layer)) {
        return send_ranged(r, w, layer_override.empty() ? artifact.layer : layer_override);
      }
    }
    w->send(404, "application/json", R"({"errors":[{"code":"NOT_FOUND","message":"unknown"}]})");
  }

  void token(const http::Request& r, const std::shared_ptr<http::ResponseWriter>& w) {
    ++token_requests;
    if (!expected_basic.empty() && r.header("Authorization") != "Basic " + base64_encode(expected_basic)) {
      return w->send(401, "application/json", "{}");
    }
    w->send(200, "application/json", R"({"token":"tok123"})");
  }

  void hub(const http::Request& r, const std::shared_ptr<http::ResponseWriter>& w) {
    {
      std::lock_guard lock(mutex);
      hf_token_seen = std::string(r.header("Authorization"));
    }
    if (r.path == "/api/models/org/repo") {
      return w->send(200, "application/json",
                     R"({"id":"org/repo","siblings":[{"rfilename":"README.md"},{"rfilename":"m-Q8_0.gguf"},)"
                     R"({"rfilename":"m-Q4_K_M.gguf"}]})");
    }
    // HF redirects LFS files to its CDN; the client must follow.
    if (r.path == "/org/repo/resolve/main/m-Q4_K_M.gguf")
      return w->send(302, "text/plain", "", {{"Location", "/cdn/q4"}});
    if (r.path == "/cdn/q4") return send_ranged(r, w, hf_file);
    w->send(404, "application/json", R"({"error":"Repository not found"})");
  }

  void send_ranged(const http::Request& r, const std::shared_ptr<http::ResponseWriter>& w,
                   const std::string& bytes) {
    const std::string range(r.header("Range"));
    {
      std::lock_guard lock(mutex);
      ranges.push_back(range);
    }
    if (range.empty() || ignore_range) return w->send(200, "application/octet-stream", bytes);
    const size_t from = std::stoul(range.substr(6));
    if (from >= bytes.size()) return w->send(416, "text/plain", "");
    w->send(206, "application/octet-stream", bytes.substr(from),
            {{"Content-Range", "bytes " + std::to_string(from) + "-" + std::to_string(bytes.size() - 1) +
                                   "/" + std::to_string(bytes.size())}});
  }

  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

class RegistryClient : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("GENSTACK_RETRY_BASE_MS", "1", 1);
    ::setenv("DOCKER_CONFIG", (home_ / "docker").c_str(), 1);
    auto opened = store::Store::open(home_);
    ASSERT_TRUE(opened.ok()) << opened.error();
    store_ = std::move(*opened);
    options_.home = home_;
    options_.insecure = true;
    auto ref = store::parse_reference(fake_.host() + "/team/m:v1");
    ASSERT_TRUE(ref.ok()) << ref.error();
    ref_ = *ref;
  }
  void TearDown() override {
    ::unsetenv("GENSTACK_RETRY_BASE_MS");
    ::unsetenv("DOCKER_CONFIG");
  }
  Result<store::Manifest> pull_model() { return pull(*store_, ref_, options_); }
  std::string layer_digest() const { return store::sha256_digest(fake_.artifact.layer); }

  std::filesystem::path home_ = test::temp_dir();
  FakeRegistry fake_;
  std::unique_ptr<store::Store> store_;
  TransferOptions options_;
  store::Reference ref_;
};

TEST_F(RegistryClient, PullsAnonymouslyAndVerifies) {
  std::vector<std::string> statuses;
  std::mutex mutex;
  options_.progress = [&](const Progress& p) {
    std::lock_guard lock(mutex);
    statuses.push_back(p.status);
  };
  auto manifest = pull_model();
  ASSERT_TRUE(manifest.ok()) << manifest.error();
  EXPECT_EQ(manifest->digest, fake_.artifact.digest);
  EXPECT_TRUE(store_->has_blob(layer_digest()));
  EXPECT_TRUE(store_->get(ref_).ok());
  EXPECT_EQ(statuses.front(), "pulling manifest");
  EXPECT_EQ(statuses.back(), "success");
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "pulling " + layer_digest()), statuses.end());
}

TEST_F(RegistryClient, BearerChallengeWithStoredCredentials) {
  fake_.require_token = true;
  fake_.expected_basic = "alice:pw";
  ASSERT_TRUE(save_credentials(home_, fake_.host(), {"alice", "pw"}).ok());
  auto manifest = pull_model();
  ASSERT_TRUE(manifest.ok()) << manifest.error();
  EXPECT_GE(fake_.token_requests.load(), 1);
}

TEST_F(RegistryClient, BearerChallengeRefusedWithoutCredentials) {
  fake_.require_token = true;
  fake_.expected_basic = "alice:pw";
  auto manifest = pull_model();
  ASSERT_FALSE(manifest.ok());
  EXPECT_NE(manifest.error().find("refused"), std::string::npos) << manifest.error();
  EXPECT_EQ(manifest.error().find("pw"), std::string::npos);
}

TEST_F(RegistryClient, RetriesServerErrorsThenSucceeds) {
  fake_.fail_remaining = 2;
  auto manifest = pull_model();
  ASSERT_TRUE(manifest.ok()) << manifest.error();
}

TEST_F(RegistryClient, HonoursRetryAfterOn429) {
  fake_.fail_remaining = 1;
  fake_.fail_status = 429;
  fake_.retry_after = "0";
  ASSERT_TRUE(pull_model().ok());
}

TEST_F(RegistryClient, GivesUpAfterBoundedRetriesWithAClearError) {
  fake_.fail_remaining = 1000;
  auto manifest = pull_model();
  ASSERT_FALSE(manifest.ok());
  EXPECT_NE(manifest.error().find("HTTP 503"), std::string::npos) << manifest.error();
  EXPECT_NE(manifest.error().find(fake_.host()), std::string::npos) << manifest.error();
  EXPECT_NE(manifest.error().find("after 3 tries"), std::string::npos) << manifest.error();
  EXPECT_EQ(fake_.requests.load(), 3);
}

TEST_F(RegistryClient, ResumesAPartialDownloadWithRange) {
  const std::string& layer = fake_.artifact.layer;
  std::ofstream(store_->partial_path(layer_digest()), std::ios::binary) << layer.substr(0, 100'000);
  ASSERT_TRUE(pull_model().ok());
  std::lock_guard lock(fake_.mutex);
  EXPECT_NE(std::find(fake_.ranges.begin(), fake_.ranges.end(), "bytes=100000-"), fake_.ranges.end());
}

TEST_F(RegistryClient, RestartsWhenTheServerIgnoresRange) {
  fake_.ignore_range = true;
  std::ofstream(store_->partial_path(layer_digest()), std::ios::binary)
      << fake_.artifact.layer.substr(0, 100'000);
  auto manifest = pull_model();
  ASSERT_TRUE(manifest.ok()) << manifest.error();
  EXPECT_TRUE(store_->has_blob(layer_digest()));
}

TEST_F(RegistryClient, CorruptedPartialIsRefusedAndNothingEntersTheStore) {
  std::ofstream(store_->partial_path(layer_digest()), std::ios::binary) << std::string(100'000, 'x');
  auto manifest = pull_model();
  ASSERT_FALSE(manifest.ok());
  EXPECT_NE(manifest.error().find(layer_digest()), std::string::npos) << manifest.error();
  EXPECT_FALSE(store_->has_blob(layer_digest()));
  EXPECT_FALSE(std::filesystem::exists(store_->partial_path(layer_digest())));
  EXPECT_FALSE(store_->get(ref_).ok());
  ASSERT_TRUE(pull_model().ok());  // the bad partial is gone: a second pull starts clean
}

TEST_F(RegistryClient, CorruptBlobFromTheRegistryIsRefused) {
  fake_.layer_override = test::pseudo_random_bytes(fake_.artifact.layer.size(), 99);
  ASSERT_FALSE(pull_model().ok());
  EXPECT_FALSE(store_->has_blob(layer_digest()));
  EXPECT_FALSE(store_->get(ref_).ok());
}

TEST_F(RegistryClient, ManifestDigestMismatchIsRefused) {
  fake_.wrong_manifest_digest = "sha256:" + std::string(64, '0');
  auto manifest = pull_model();
  ASSERT_FALSE(manifest.ok());
  EXPECT_NE(manifest.error().find("digest mismatch"), std::string::npos) << manifest.error();
}

TEST_F(RegistryClient, PullByDigestChecksTheContent) {
  auto by_digest = store::parse_reference(fake_.host() + "/team/m@" + fake_.artifact.digest);
  ASSERT_TRUE(by_digest.ok()) << by_digest.error();
  ASSERT_TRUE(pull(*store_, *by_digest, options_).ok());
  auto wrong = store::parse_reference(fake_.host() + "/team/m@sha256:" + std::string(64, '1'));
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(pull(*store_, *wrong, options_).ok());
}

TEST_F(RegistryClient, HuggingFacePullPicksTheQuantizationAndFollowsRedirects) {
  ::setenv("HF_ENDPOINT", fake_.url().c_str(), 1);
  ::setenv("HF_TOKEN", "hf_secret", 1);
  std::ifstream model(test::shared_path("models/stories260K.gguf"), std::ios::binary);
  fake_.hf_file.assign(std::istreambuf_iterator<char>(model), {});
  ASSERT_FALSE(fake_.hf_file.empty());
  auto ref = store::parse_reference("hf.co/org/repo");
  ASSERT_TRUE(ref.ok()) << ref.error();
  auto manifest = pull(*store_, *ref, options_);
  ::unsetenv("HF_ENDPOINT");
  ::unsetenv("HF_TOKEN");
  ASSERT_TRUE(manifest.ok()) << manifest.error();
  ASSERT_EQ(manifest->gguf_layers().size(), 1u);
  EXPECT_EQ(manifest->gguf_layers()[0]->digest, store::sha256_digest(fake_.hf_file));
  EXPECT_EQ(fake_.hf_token_seen, "Bearer hf_secret");
  auto tagged = store::parse_reference("hf.co/org/repo:Q4_K_M");
  ASSERT_TRUE(tagged.ok());
  EXPECT_TRUE(store_->get(*tagged).ok());
  EXPECT_TRUE(store_->get(*ref).ok());
}

TEST_F(RegistryClient, HuggingFaceMissingQuantizationNamesTheFiles) {
  ::setenv("HF_ENDPOINT", fake_.url().c_str(), 1);
  auto ref = store::parse_reference("hf.co/org/repo:Q5_K_M");
  ASSERT_TRUE(ref.ok());
  auto manifest = pull(*store_, *ref, options_);
  ::unsetenv("HF_ENDPOINT");
  ASSERT_FALSE(manifest.ok());
  EXPECT_NE(manifest.error().find("m-Q8_0.gguf"), std::string::npos) << manifest.error();
}

}  // namespace
}  // namespace gs::registry
