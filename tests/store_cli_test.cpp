// The store's commands through the binary: package -> list -> inspect -> tag
// -> run by reference -> rm -> prune, with GENSTACK_HOME in a temp dir.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace gs {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string stories() { return test::shared_path("models/stories260K.gguf"); }

class StoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = test::temp_dir();
    setenv("GENSTACK_HOME", home_.c_str(), 1);
    setenv("GENSTACK_HOST", "http://127.0.0.1:1", 1);  // never a running server
    // run pulls a missing model: point Docker Hub at a closed port, never the network.
    setenv("GENSTACK_REGISTRY_MIRROR", "http://127.0.0.1:1", 1);
    setenv("GENSTACK_RETRY_ATTEMPTS", "1", 1);
  }
  void TearDown() override {
    unsetenv("GENSTACK_HOME");
    unsetenv("GENSTACK_HOST");
    unsetenv("GENSTACK_REGISTRY_MIRROR");
    unsetenv("GENSTACK_RETRY_ATTEMPTS");
  }
  int run(const std::string& args, std::string* out, std::string* err) {
    return test::run_genstack(args, out, err);
  }
  void expect_one_line_error(const std::string& args, const std::string& expected) {
    std::string out, err;
    EXPECT_EQ(run(args, &out, &err), 1) << args;
    EXPECT_EQ(err.rfind("genstack: error: ", 0), 0u) << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
    EXPECT_NE(err.find(expected), std::string::npos) << err;
  }
  std::string home_;
};

TEST_F(StoreCli, PackageListInspectTagRunRemovePrune) {
  const std::string dir = test::temp_dir();
  std::ofstream(dir + "/LICENSE") << "MIT License\n";
  std::string out, err;
  ASSERT_EQ(
      run("package --gguf " + stories() + " --license " + dir + "/LICENSE --context-size 256 ai/stories",
          &out, &err),
      0)
      << err;
  const std::string digest = out.substr(0, out.find('\n'));
  ASSERT_EQ(digest.size(), 71u) << out;
  ASSERT_EQ(
      run("package --gguf " + stories() + " --license " + dir + "/LICENSE --context-size 256 ai/stories",
          &out, &err),
      0);
  EXPECT_EQ(out.substr(0, out.find('\n')), digest) << "packaging is reproducible";

  ASSERT_EQ(run("ls", &out, &err), 0) << err;
  EXPECT_EQ(out.rfind("MODEL NAME", 0), 0u) << out;
  EXPECT_NE(out.find("ai/stories:latest"), std::string::npos) << out;
  EXPECT_NE(out.find(digest.substr(7, 12)), std::string::npos) << out;
  EXPECT_NE(out.find("llama"), std::string::npos) << out;

  ASSERT_EQ(run("inspect stories", &out, &err), 0) << err;
  const json::object inspected = json::parse(out).as_object();
  EXPECT_EQ(inspected.at("id"), json::value(digest));
  EXPECT_EQ(inspected.at("manifest").at("layers").as_array().size(), 2u);
  EXPECT_EQ(inspected.at("config").at("config").at("context_size"), json::value(256));
  const std::string gguf(inspected.at("gguf").as_string());
  EXPECT_EQ(fs::file_size(gguf), fs::file_size(stories()));

  ASSERT_EQ(run("tag ai/stories localhost:5000/team/stories:v1", &out, &err), 0) << err;
  ASSERT_EQ(run("list --json", &out, &err), 0) << err;
  const json::array listed = json::parse(out).as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("tags").as_array().size(), 2u);

  std::string from_file, from_ref;
  ASSERT_EQ(run("run " + stories() + " 'Once upon a time' -n 24 --temp 0", &from_file, &err), 0) << err;
  ASSERT_EQ(run("run localhost:5000/team/stories:v1 'Once upon a time' -n 24 --temp 0", &from_ref, &err), 0)
      << err;
  EXPECT_EQ(from_ref, from_file);
  ASSERT_EQ(run("run ai/stories@" + digest + " 'Once upon a time' -n 24 --temp 0", &from_ref, &err), 0)
      << err;
  EXPECT_EQ(from_ref, from_file);

  ASSERT_EQ(run("scan ai/stories", &out, &err), 0) << err;
  EXPECT_NE(out.find("MIT License"), std::string::npos) << out;
  EXPECT_NE(out.find("manifest: " + digest), std::string::npos) << out;

  ASSERT_EQ(run("rm ai/stories", &out, &err), 0) << err;
  EXPECT_TRUE(fs::exists(gguf)) << "the other tag still uses the GGUF";
  ASSERT_EQ(run("rm localhost:5000/team/stories:v1", &out, &err), 0) << err;
  EXPECT_FALSE(fs::exists(gguf));
  ASSERT_EQ(run("df", &out, &err), 0) << err;
  EXPECT_NE(out.find("Models"), std::string::npos) << out;
  ASSERT_EQ(run("prune", &out, &err), 0) << err;
  ASSERT_EQ(run("ls --json", &out, &err), 0) << err;
  EXPECT_EQ(out, "[]\n");
  // A removed model is pulled again by run; here the registry is unreachable.
  EXPECT_EQ(run("run ai/stories hi", &out, &err), 1);
  const size_t last = err.rfind("genstack: error: ");
  ASSERT_NE(last, std::string::npos) << err;
  EXPECT_EQ(err.find('\n', last), err.size() - 1) << err;
  EXPECT_NE(err.find("ai/stories:latest is not in the local store and pulling it failed", last),
            std::string::npos)
      << err;
}

TEST_F(StoreCli, ClearErrors) {
  expect_one_line_error("run ../x hi", "no model file");
  expect_one_line_error("inspect a:b:c", "too many ':'");
  expect_one_line_error("inspect Ai/Model", "must be lowercase");
  expect_one_line_error("rm ai/absent", "not found");
  expect_one_line_error("package --gguf /nonexistent.gguf ai/x", "nonexistent.gguf");
  expect_one_line_error("tag ai/absent ai/other", "not found");
  expect_one_line_error("scan ai/absent", "not found");
}

TEST_F(StoreCli, ScanFileWarnings) {
  std::string out, err;
  ASSERT_EQ(run("scan " + stories(), &out, &err), 0) << err;
  EXPECT_NE(out.find("no problems found"), std::string::npos) << out;
  const std::string trailing = test::temp_dir() + "/trailing.gguf";
  fs::copy_file(stories(), trailing);
  std::ofstream(trailing, std::ios::app) << std::string(100, 'x');
  ASSERT_EQ(run("scan " + trailing, &out, &err), 0) << err;
  EXPECT_EQ(err.rfind("warning: ", 0), 0u) << err;
  const std::string truncated = test::temp_dir() + "/truncated.gguf";
  fs::copy_file(stories(), truncated);
  fs::resize_file(truncated, 1000);
  expect_one_line_error("scan " + truncated, "truncated.gguf");
}

}  // namespace
}  // namespace gs
