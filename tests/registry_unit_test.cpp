// Pure parts of the registry client: WWW-Authenticate parsing, credentials,
// retry policy, URL building, Hugging Face file choice, resume headers.
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "registry/auth.h"
#include "registry/download.h"
#include "registry/huggingface.h"
#include "registry/progress.h"
#include "registry/retry.h"
#include "registry/session.h"
#include "test_util.h"

namespace gs::registry {
namespace {

using std::chrono::milliseconds;

TEST(RegistryChallenge, ParsesBearerWithQuotedParams) {
  auto c = parse_challenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:ai/smollm2:pull")");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c->param("service"), "registry.docker.io");
  EXPECT_EQ(c->param("scope"), "repository:ai/smollm2:pull");
}

TEST(RegistryChallenge, ParsesBasicTokensSpacesAndEscapes) {
  auto c = parse_challenge(R"(Basic  Realm = "say \"hi\"" , charset=UTF-8)");
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->scheme, "basic");
  EXPECT_EQ(c->param("realm"), "say \"hi\"");
  EXPECT_EQ(c->param("charset"), "UTF-8");
  EXPECT_EQ(c->param("missing"), "");
}

TEST(RegistryChallenge, RejectsMalformedHeaders) {
  EXPECT_FALSE(parse_challenge("").ok());
  EXPECT_FALSE(parse_challenge("Bearer realm").ok());
  EXPECT_FALSE(parse_challenge(R"(Bearer realm="unterminated)").ok());
  EXPECT_FALSE(parse_challenge("Bearer =x").ok());
}

TEST(RegistryAuth, Base64RoundTrip) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "user:pa:ss", std::string("\0\xff", 2)}) {
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_FALSE(base64_decode("abc").ok());
}

TEST(RegistryAuth, DockerHubAliases) {
  EXPECT_TRUE(same_registry_host("https://index.docker.io/v1/", "docker.io"));
  EXPECT_TRUE(same_registry_host("registry-1.docker.io", "docker.io"));
  EXPECT_TRUE(same_registry_host("http://localhost:5000", "localhost:5000"));
  EXPECT_FALSE(same_registry_host("localhost:5001", "localhost:5000"));
  EXPECT_FALSE(same_registry_host("docker.io", "ghcr.io"));
}

TEST(RegistryAuth, SaveFindRemoveCredentialsPrivately) {
  const std::filesystem::path home = test::temp_dir();
  ::setenv("DOCKER_CONFIG", (home / "no-docker").c_str(), 1);
  EXPECT_FALSE(find_credentials(home, "localhost:5000"));
  ASSERT_TRUE(save_credentials(home, "localhost:5000", {"alice", "s3:cret"}).ok());
  struct stat st {};
  ASSERT_EQ(::stat((home / "auth.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto found = find_credentials(home, "localhost:5000");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "alice");
  EXPECT_EQ(found->password, "s3:cret");
  auto removed = remove_credentials(home, "localhost:5000");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(find_credentials(home, "localhost:5000"));
  EXPECT_FALSE(*remove_credentials(home, "localhost:5000"));
  ::unsetenv("DOCKER_CONFIG");
}

TEST(RegistryAuth, ReadsDockerConfig) {
  const std::filesystem::path dir = test::temp_dir();
  std::ofstream(dir / "config.json") << R"({"auths":{"https://index.docker.io/v1/":{"auth":")"
                                     << base64_encode("bob:pw") << R"("}}})";
  ::setenv("DOCKER_CONFIG", dir.c_str(), 1);
  auto found = find_credentials(dir / "home", "docker.io");
  ::unsetenv("DOCKER_CONFIG");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "bob");
  EXPECT_EQ(found->password, "pw");
}

TEST(RegistryRetry, StatusesWorthRetrying) {
  for (long s : {429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(is_retryable_status(s)) << s;
  for (long s : {200L, 201L, 400L, 401L, 404L, 416L, 501L}) EXPECT_FALSE(is_retryable_status(s)) << s;
}

TEST(RegistryRetry, ExponentialBackoffCappedAndRetryAfter) {
  RetryPolicy policy;
  policy.base = milliseconds(500);
  policy.cap = milliseconds(3000);
  EXPECT_EQ(backoff_delay(policy, 1), milliseconds(500));
  EXPECT_EQ(backoff_delay(policy, 2), milliseconds(1000));
  EXPECT_EQ(backoff_delay(policy, 3), milliseconds(2000));
  EXPECT_EQ(backoff_delay(policy, 4), milliseconds(3000));
  EXPECT_EQ(backoff_delay(policy, 60), milliseconds(3000));
  EXPECT_EQ(backoff_delay(policy, 1, milliseconds(2000)), milliseconds(2000));
  EXPECT_EQ(backoff_delay(policy, 1, milliseconds(60000)), milliseconds(3000));
}

TEST(RegistryRetry, ParsesRetryAfterSecondsOnly) {
  EXPECT_EQ(parse_retry_after("2"), milliseconds(2000));
  EXPECT_EQ(parse_retry_after(" 0 "), milliseconds(0));
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST(RegistryRetry, PolicyFromEnvironment) {
  ::setenv("GENSTACK_RETRY_BASE_MS", "7", 1);
  ::setenv("GENSTACK_RETRY_ATTEMPTS", "5", 1);
  RetryPolicy policy = RetryPolicy::from_env();
  EXPECT_EQ(policy.base, milliseconds(7));
  EXPECT_EQ(policy.max_attempts, 5);
  ::unsetenv("GENSTACK_RETRY_BASE_MS");
  ::unsetenv("GENSTACK_RETRY_ATTEMPTS");
  EXPECT_EQ(RetryPolicy::from_env().base, milliseconds(500));
}

TEST(RegistryUrls, EndpointsAndPaths) {
  auto hub = store::parse_reference("ai/smollm2");
  ASSERT_TRUE(hub.ok());
  ::unsetenv("GENSTACK_REGISTRY_MIRROR");
  Endpoint e = registry_endpoint(*hub, false);
  EXPECT_EQ(e.base, "https://registry-1.docker.io");
  EXPECT_EQ(e.host, "docker.io");
  EXPECT_EQ(manifest_url(e, hub->repository, hub->tag),
            "https://registry-1.docker.io/v2/ai/smollm2/manifests/latest");
  ::setenv("GENSTACK_REGISTRY_MIRROR", "http://127.0.0.1:5555/", 1);
  EXPECT_EQ(registry_endpoint(*hub, false).base, "http://127.0.0.1:5555");
  ::unsetenv("GENSTACK_REGISTRY_MIRROR");

  auto local = store::parse_reference("localhost:5000/team/m:v1");
  ASSERT_TRUE(local.ok());
  Endpoint l = registry_endpoint(*local, true);
  EXPECT_EQ(l.base, "http://localhost:5000");
  EXPECT_EQ(registry_endpoint(*local, false).base, "https://localhost:5000");
  const std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(blob_url(l, "team/m", digest), "http://localhost:5000/v2/team/m/blobs/" + digest);
  EXPECT_EQ(uploads_url(l, "team/m"), "http://localhost:5000/v2/team/m/blobs/uploads/");
  EXPECT_EQ(absolute_location(l, "/v2/team/m/blobs/uploads/u?_state=x"),
            "http://localhost:5000/v2/team/m/blobs/uploads/u?_state=x");
  EXPECT_EQ(absolute_location(l, "https://other/x"), "https://other/x");
  EXPECT_EQ(with_query("http://h/a", "digest=d"), "http://h/a?digest=d");
  EXPECT_EQ(with_query("http://h/a?x=1", "digest=d"), "http://h/a?x=1&digest=d");
  EXPECT_EQ(url_encode("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
}

TEST(RegistryResume, RangeHeader) {
  EXPECT_EQ(range_header(0), "");
  EXPECT_EQ(range_header(1234), "Range: bytes=1234-");
}

TEST(RegistryHuggingFace, PicksQuantizationCaseInsensitively) {
  const std::vector<std::string> files = {"README.md",         "model-Q4_K_S.gguf",  "model-q4_k_m.gguf",
                                          "model-IQ4_XS.gguf", "mmproj-Q4_K_M.gguf", "model-Q8_0.gguf"};
  auto q4 = pick_gguf_files(files, "Q4_K_M");
  ASSERT_TRUE(q4.ok()) << q4.error();
  EXPECT_EQ(*q4, std::vector<std::string>{"model-q4_k_m.gguf"});
  EXPECT_FALSE(pick_gguf_files(files, "Q4_K").ok());   // only Q4_K_S / Q4_K_M, no bare Q4_K
  EXPECT_FALSE(pick_gguf_files(files, "Q4_XS").ok());  // IQ4_XS is a different type
  auto missing = pick_gguf_files(files, "Q5_K_M");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("model-Q8_0.gguf"), std::string::npos);
}

TEST(RegistryHuggingFace, ShardedSetsInOrderAndComplete) {
  const std::vector<std::string> files = {"Q4_K_M/m-Q4_K_M-00002-of-00002.gguf",
                                          "Q4_K_M/m-Q4_K_M-00001-of-00002.gguf", "m-Q8_0.gguf"};
  auto picked = pick_gguf_files(files, "q4_k_m");
  ASSERT_TRUE(picked.ok()) << picked.error();
  EXPECT_EQ(*picked, (std::vector<std::string>{"Q4_K_M/m-Q4_K_M-00001-of-00002.gguf",
                                               "Q4_K_M/m-Q4_K_M-00002-of-00002.gguf"}));
  EXPECT_FALSE(
      pick_gguf_files({"m-Q4_K_M-00001-of-00003.gguf", "m-Q4_K_M-00002-of-00003.gguf"}, "Q4_K_M").ok());
}

TEST(RegistryHuggingFace, FileUrls) {
  EXPECT_EQ(hf_file_url("http://h", "org/repo", "sub dir/m-Q4_K_M.gguf"),
            "http://h/org/repo/resolve/main/sub%20dir/m-Q4_K_M.gguf");
}

TEST(RegistryProgress, HumanBytes) {
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(120.3e6), "120.3 MB");
  EXPECT_EQ(human_bytes(1.5e9), "1.5 GB");
}

}  // namespace
}  // namespace gs::registry
