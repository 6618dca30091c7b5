#include "test_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gs::test {

std::string shared_path(const std::string& relative) {
  const char* env = std::getenv("GENSTACK_SHARED");
  std::string base = env && *env ? env : GENSTACK_SHARED_DIR;
  return base + "/" + relative;
}

std::vector<boost::json::value> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<boost::json::value> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(boost::json::parse(line));
  }
  return lines;
}

std::string temp_dir() {
  namespace fs = std::filesystem;
  static std::vector<std::string>* made = [] {
    auto* v = new std::vector<std::string>();
    std::atexit([] {
      std::error_code ec;
      for (auto& d : *made) fs::remove_all(d, ec);
    });
    return v;
  }();
  std::string templ = (fs::temp_directory_path() / "genstack-test-XXXXXX").string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  const char* dir = mkdtemp(buf.data());
  EXPECT_NE(dir, nullptr);
  made->push_back(dir);
  return dir;
}

int run_genstack(const std::string& args, std::string* out, std::string* err, const std::string& input) {
  std::string dir = temp_dir();
  std::string out_path = dir + "/stdout", err_path = dir + "/stderr", in_path = dir + "/stdin";
  std::ofstream(in_path, std::ios::binary) << input;
  std::string cmd =
      std::string(GENSTACK_BINARY) + " " + args + " >" + out_path + " 2>" + err_path + " <" + in_path;
  int status = std::system(cmd.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  if (out) *out = slurp(out_path);
  if (err) *err = slurp(err_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace gs::test
