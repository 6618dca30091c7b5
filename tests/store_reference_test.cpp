// Model references: the Docker/OCI grammar, Docker Hub defaults, Hugging Face.
#include <gtest/gtest.h>

#include "store/reference.h"

namespace gs::store {
namespace {

const std::string kHex(64, 'a');

struct Good {
  std::string text, registry, repository, tag, digest, display;
};

TEST(StoreReference, ParsesGoodReferences) {
  const Good cases[] = {
      {"ai/smollm2", "docker.io", "ai/smollm2", "latest", "", "ai/smollm2:latest"},
      {"smollm2", "docker.io", "ai/smollm2", "latest", "", "ai/smollm2:latest"},
      {"smollm2:360M-Q4_K_M", "docker.io", "ai/smollm2", "360M-Q4_K_M", "", "ai/smollm2:360M-Q4_K_M"},
      {"docker.io/ai/smollm2:v1", "docker.io", "ai/smollm2", "v1", "", "ai/smollm2:v1"},
      {"index.docker.io/team/m", "docker.io", "team/m", "latest", "", "team/m:latest"},
      {"localhost:5000/team/m:v1", "localhost:5000", "team/m", "v1", "", "localhost:5000/team/m:v1"},
      {"localhost/m", "localhost", "m", "latest", "", "localhost/m:latest"},
      {"registry.example.com/a/b/c", "registry.example.com", "a/b/c", "latest", "",
       "registry.example.com/a/b/c:latest"},
      {"ai/smollm2@sha256:" + kHex, "docker.io", "ai/smollm2", "", "sha256:" + kHex,
       "ai/smollm2@sha256:" + kHex},
      {"ai/m:v2@sha256:" + kHex, "docker.io", "ai/m", "v2", "sha256:" + kHex, "ai/m:v2@sha256:" + kHex},
      {"a__b/c-d--e.f_g", "docker.io", "a__b/c-d--e.f_g", "latest", "", "a__b/c-d--e.f_g:latest"},
      {"hf.co/bartowski/SmolLM2-135M-Instruct-GGUF", "hf.co", "bartowski/SmolLM2-135M-Instruct-GGUF",
       "latest", "", "hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:latest"},
      {"huggingface.co/Org/Repo:Q8_0", "hf.co", "Org/Repo", "Q8_0", "", "hf.co/Org/Repo:Q8_0"},
  };
  for (const Good& c : cases) {
    auto ref = parse_reference(c.text);
    ASSERT_TRUE(ref.ok()) << c.text << ": " << ref.error();
    EXPECT_EQ(ref->registry, c.registry) << c.text;
    EXPECT_EQ(ref->repository, c.repository) << c.text;
    EXPECT_EQ(ref->tag, c.tag) << c.text;
    EXPECT_EQ(ref->digest, c.digest) << c.text;
    EXPECT_EQ(ref->display(), c.display) << c.text;
  }
}

TEST(StoreReference, CanonicalAndName) {
  auto ref = parse_reference("ai/smollm2");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->canonical(), "docker.io/ai/smollm2:latest");
  EXPECT_EQ(ref->name(), "docker.io/ai/smollm2");
  EXPECT_FALSE(ref->huggingface());
  auto hf = parse_reference("hf.co/Org/Repo:Q4_K_M");
  ASSERT_TRUE(hf.ok());
  EXPECT_TRUE(hf->huggingface());
  EXPECT_EQ(hf->canonical(), "hf.co/Org/Repo:Q4_K_M");
}

TEST(StoreReference, RejectsBadReferencesWithClearErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty"},
      {"../x", "'..' is not allowed"},
      {"./x", "'.' is not allowed"},
      {"a:b:c", "too many ':'"},
      {"Ai/SmolLM2", "must be lowercase"},
      {"ai/smollm2:", "invalid tag"},
      {"ai/smollm2:-x", "invalid tag"},
      {"ai/smollm2:" + std::string(129, 'a'), "invalid tag"},
      {"ai//smollm2", "empty"},
      {"ai/smollm2/", "empty"},
      {"/ai/smollm2", "empty"},
      {"ai/smollm2@sha256:../../etc", "invalid digest"},
      {"ai/smollm2@sha256:" + std::string(64, 'A'), "invalid digest"},
      {"ai/smollm2@md5:abc", "invalid digest"},
      {"ai/a-", "invalid repository name component"},
      {"ai/a..b", "invalid repository name component"},
      {"ai/a___b", "invalid repository name component"},
      {"ai/" + std::string(300, 'a'), "longer than 255"},
      {"bad_host.com/x", "invalid registry host"},
      {"localhost:port/x", "invalid registry host"},
      {"hf.co/only-org", "hf.co/ORG/REPO"},
      {"hf.co/a/b/c", "hf.co/ORG/REPO"},
      {"hf.co/org/..", "not a valid Hugging Face name"},
      {"ai/smoll m2", "invalid repository name component"},
  };
  for (const auto& [text, expected] : cases) {
    auto ref = parse_reference(text);
    ASSERT_FALSE(ref.ok()) << "accepted '" << text << "'";
    EXPECT_NE(ref.error().find(expected), std::string::npos) << text << " -> " << ref.error();
    EXPECT_EQ(ref.error().find('\n'), std::string::npos);
    EXPECT_LT(ref.error().size(), 300u) << ref.error();
  }
}

}  // namespace
}  // namespace gs::store
