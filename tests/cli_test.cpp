// The genstack binary as a user meets it: output on stdout, and for bad input
// one readable line on stderr with a non-zero exit, never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gguf/gguf.h"
#include "test_util.h"

namespace gs {
namespace {

std::string stories() { return test::shared_path("models/stories260K.gguf"); }

void expect_one_line_error(int code, const std::string& err) {
  EXPECT_NE(code, 0);
  EXPECT_LT(code, 128) << "killed by a signal";
  ASSERT_FALSE(err.empty());
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "error must be one line: " << err;
  EXPECT_EQ(err.rfind("genstack: error: ", 0), 0u) << err;
}

TEST(Cli, RunReadsPromptFromStdin) {
  std::string from_stdin, from_arg, err;
  ASSERT_EQ(test::run_genstack("run " + stories() + " -n 16 --temp 0", &from_stdin, &err, "Once upon a time"),
            0)
      << err;
  ASSERT_EQ(test::run_genstack("run " + stories() + " 'Once upon a time' -n 16 --temp 0", &from_arg, &err), 0)
      << err;
  EXPECT_EQ(from_stdin, from_arg);
}

TEST(Cli, SeedReproducible) {
  std::string a, b, err;
  const std::string args = "run " + stories() + " 'The little dog' -n 32 --temp 1.0 --seed 42";
  ASSERT_EQ(test::run_genstack(args, &a, &err), 0) << err;
  ASSERT_EQ(test::run_genstack(args, &b, &err), 0) << err;
  EXPECT_EQ(a, b);
  EXPECT_GT(a.size(), 10u);
}

TEST(Cli, ScalarAndSimdAgreeOnGreedyText) {
  std::string simd, scalar, err;
  const std::string args = "run " + stories() + " 'Lily and Tom' -n 48 --temp 0";
  ASSERT_EQ(test::run_genstack(args, &simd, &err), 0) << err;
  setenv("GENSTACK_SIMD", "scalar", 1);
  ASSERT_EQ(test::run_genstack(args, &scalar, &err), 0) << err;
  unsetenv("GENSTACK_SIMD");
  EXPECT_EQ(simd, scalar);
}

TEST(Cli, MissingModelFile) {
  std::string out, err;
  expect_one_line_error(test::run_genstack("run /nonexistent/model.gguf hi", &out, &err), err);
}

TEST(Cli, TruncatedModelFile) {
  const std::string path = test::temp_dir() + "/truncated.gguf";
  std::filesystem::copy_file(stories(), path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  std::string out, err;
  expect_one_line_error(test::run_genstack("run " + path + " hi", &out, &err), err);
  expect_one_line_error(test::run_genstack("gguf inspect " + path, &out, &err), err);
}

TEST(Cli, NotAGgufFile) {
  const std::string path = test::temp_dir() + "/text.gguf";
  std::ofstream(path) << "this is not a model\n";
  std::string out, err;
  expect_one_line_error(test::run_genstack("run " + path + " hi", &out, &err), err);
}

TEST(Cli, UnknownArchitecture) {
  auto src = gguf::File::open(stories());
  ASSERT_TRUE(src.ok()) << src.error();
  gguf::Writer w;
  for (const auto& [key, value] : (*src)->metadata()) w.set(key, value);
  w.set("general.architecture", gguf::Value::str("mamba"));
  for (const auto& t : (*src)->tensors()) w.add_tensor(t.name, t.type, t.dims, t.data, t.size_bytes);
  const std::string path = test::temp_dir() + "/mamba.gguf";
  ASSERT_TRUE(w.write(path).ok());
  std::string out, err;
  const int code = test::run_genstack("run " + path + " hi", &out, &err);
  expect_one_line_error(code, err);
  EXPECT_NE(err.find("mamba"), std::string::npos) << err;
}

TEST(Cli, PromptLongerThanContext) {
  std::string out, err;
  const int code = test::run_genstack(
      "run " + stories() + " 'Once upon a time there was a little girl named Lily' --ctx 8", &out, &err);
  expect_one_line_error(code, err);
  EXPECT_NE(err.find("context"), std::string::npos) << err;
}

TEST(Cli, BadOptions) {
  std::string out, err;
  EXPECT_NE(test::run_genstack("run " + stories() + " hi --kv-type q3_k", &out, &err), 0);
  EXPECT_NE(test::run_genstack("run " + stories() + " hi -t -3", &out, &err), 0);
  EXPECT_NE(test::run_genstack("frobnicate", &out, &err), 0);
}

TEST(Cli, GgufInspect) {
  std::string out, err;
  ASSERT_EQ(test::run_genstack("gguf inspect " + stories(), &out, &err), 0) << err;
  EXPECT_NE(out.find("general.architecture"), std::string::npos);
  EXPECT_NE(out.find("blk.0.attn_q.weight"), std::string::npos);
  ASSERT_EQ(test::run_genstack("gguf inspect --json " + stories(), &out, &err), 0) << err;
  EXPECT_EQ(out.front(), '{');
}

TEST(Cli, BenchPrintsFigures) {
  std::string out, err;
  ASSERT_EQ(test::run_genstack("bench " + stories() + " -p 32 -n 8 -r 1 --no-bandwidth --json", &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("\"pp32\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"tg8\""), std::string::npos) << out;
}

TEST(Cli, KvCacheTypesAllRun) {
  // q8_0 blocks are 32 wide: stories260K's 8-wide heads cannot use them, the synthetic 64-wide ones can.
  const std::string model = test::shared_path("models/synthetic/tiny-llama-q8_0.gguf");
  for (const char* kv : {"f16", "q8_0", "f32"}) {
    std::string out, err;
    ASSERT_EQ(
        test::run_genstack("run " + model + " 'once upon a time' -n 16 --temp 0 --ignore-eos --kv-type " + kv,
                           &out, &err),
        0)
        << kv << ": " << err;
    EXPECT_GT(out.size(), 10u) << kv;
  }
  std::string out, err;
  expect_one_line_error(test::run_genstack("run " + stories() + " hi --kv-type q8_0", &out, &err), err);
}

}  // namespace
}  // namespace gs
