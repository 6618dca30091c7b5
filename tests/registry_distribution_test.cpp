// Push and pull through a real registry: Debian's docker-registry (CNCF
// distribution 2.8) started on a free 127.0.0.1 port with its storage in a
// temporary directory; skipped when it is not installed.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "registry/registry.h"
#include "registry/transport.h"
#include "registry_fixtures.h"
#include "test_util.h"

namespace gs::registry {
namespace {

using namespace std::chrono_literals;
constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class Distribution : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::access(kRegistryBinary, X_OK) != 0) return;
    const std::filesystem::path dir = test::temp_dir();
    port_ = free_port();
    std::ofstream(dir / "config.yml")
        << "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: "
        << (dir / "data").string() << "\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" << port_
        << "\n";
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string log = (dir / "registry.log").string();
      freopen(log.c_str(), "w", stdout);
      freopen(log.c_str(), "a", stderr);
      ::execl(kRegistryBinary, kRegistryBinary, "serve", (dir / "config.yml").c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {  // up to 10 s for it to listen
      auto r = perform(make_request("GET", "http://127.0.0.1:" + std::to_string(port_) + "/v2/"));
      if (r.ok() && r->status == 200) return;
      std::this_thread::sleep_for(50ms);
    }
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  void SetUp() override {
    if (pid_ <= 0) GTEST_SKIP() << kRegistryBinary << " is not installed";
    ::setenv("GENSTACK_RETRY_BASE_MS", "1", 1);
    ::setenv("GENSTACK_UPLOAD_CHUNK_BYTES", "65536", 1);  // several PATCH chunks for a small layer
    auto opened = store::Store::open(home_);
    ASSERT_TRUE(opened.ok()) << opened.error();
    store_ = std::move(*opened);
    options_.home = home_;
    options_.insecure = true;
    options_.progress = [this](const Progress& p) {
      std::lock_guard lock(mutex_);
      if (p.done) (p.skipped ? skipped_ : transferred_).push_back(p.digest);
    };
  }
  void TearDown() override {
    ::unsetenv("GENSTACK_RETRY_BASE_MS");
    ::unsetenv("GENSTACK_UPLOAD_CHUNK_BYTES");
  }
  store::Reference ref(const std::string& repository_and_tag) {
    auto r = store::parse_reference("127.0.0.1:" + std::to_string(port_) + "/" + repository_and_tag);
    EXPECT_TRUE(r.ok()) << r.error();
    return *r;
  }
  void clear_counts() {
    std::lock_guard lock(mutex_);
    skipped_.clear();
    transferred_.clear();
  }

  static inline pid_t pid_ = -1;
  static inline int port_ = 0;
  std::filesystem::path home_ = test::temp_dir();
  std::unique_ptr<store::Store> store_;
  TransferOptions options_;
  std::mutex mutex_;
  std::vector<std::string> skipped_, transferred_;
};

TEST_F(Distribution, PushThenPullRoundTripAndNoBlobUploadedTwice) {
  const test::Artifact a = test::make_artifact(test::pseudo_random_bytes(200'000, 7), "round-trip");
  test::put_artifact(*store_, a, ref("team/round:v1").display());
  auto pushed = push(*store_, ref("team/round:v1"), options_);
  ASSERT_TRUE(pushed.ok()) << pushed.error();
  EXPECT_EQ(*pushed, a.digest);
  EXPECT_EQ(transferred_.size(), 2u);  // config and layer
  EXPECT_TRUE(skipped_.empty());

  clear_counts();
  ASSERT_TRUE(push(*store_, ref("team/round:v1"), options_).ok());
  EXPECT_TRUE(transferred_.empty());
  EXPECT_EQ(skipped_.size(), 2u);

  // Pulled into a fresh store, by tag and by digest.
  auto other = store::Store::open(test::temp_dir());
  ASSERT_TRUE(other.ok());
  auto pulled = pull(**other, ref("team/round:v1"), options_);
  ASSERT_TRUE(pulled.ok()) << pulled.error();
  EXPECT_EQ(pulled->digest, a.digest);
  auto path = (*other)->gguf_path(ref("team/round:v1"));
  ASSERT_TRUE(path.ok()) << path.error();
  std::ifstream in(*path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), a.layer);
  auto by_digest = pull(**other, ref("team/round@" + a.digest), options_);
  ASSERT_TRUE(by_digest.ok()) << by_digest.error();
}

TEST_F(Distribution, PushMountsBlobsFromAnotherRepository) {
  const test::Artifact a = test::make_artifact(test::pseudo_random_bytes(100'000, 8), "mount");
  test::put_artifact(*store_, a, ref("team/first:v1").display());
  ASSERT_TRUE(push(*store_, ref("team/first:v1"), options_).ok());
  test::put_artifact(*store_, a, ref("team/second:v1").display());
  clear_counts();
  auto pushed = push(*store_, ref("team/second:v1"), options_);
  ASSERT_TRUE(pushed.ok()) << pushed.error();
  EXPECT_TRUE(transferred_.empty());  // mounted, not uploaded
  auto other = store::Store::open(test::temp_dir());
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(pull(**other, ref("team/second:v1"), options_).ok());
}

TEST_F(Distribution, ResumesFromAPartialAndRefusesACorruptedOne) {
  const test::Artifact a = test::make_artifact(test::pseudo_random_bytes(250'000, 9), "resume");
  test::put_artifact(*store_, a, ref("team/resume:v1").display());
  ASSERT_TRUE(push(*store_, ref("team/resume:v1"), options_).ok());
  const std::string layer_digest = store::sha256_digest(a.layer);

  auto fresh = store::Store::open(test::temp_dir());
  ASSERT_TRUE(fresh.ok());
  store::Store& s = **fresh;
  // A garbage prefix is continued with Range (not re-downloaded), so the result cannot verify.
  std::ofstream(s.partial_path(layer_digest), std::ios::binary) << std::string(120'000, 'x');
  auto bad = pull(s, ref("team/resume:v1"), options_);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(s.has_blob(layer_digest));
  EXPECT_FALSE(s.get(ref("team/resume:v1")).ok());

  std::ofstream(s.partial_path(layer_digest), std::ios::binary) << a.layer.substr(0, 120'000);
  auto good = pull(s, ref("team/resume:v1"), options_);
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_TRUE(s.has_blob(layer_digest));
}

TEST_F(Distribution, MissingTagIsAClearError) {
  auto pulled = pull(*store_, ref("team/nothing:v9"), options_);
  ASSERT_FALSE(pulled.ok());
  EXPECT_NE(pulled.error().find("not found"), std::string::npos) << pulled.error();
}

}  // namespace
}  // namespace gs::registry
