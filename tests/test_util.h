// Helpers shared by the tests: where ../shared lives, reading golden JSONL.
#pragma once

#include <string>
#include <vector>

#include <boost/json.hpp>

namespace gs::test {

// Path of `relative` under the shared test-data directory (../shared beside
// the checkout; GENSTACK_SHARED in the environment overrides).
std::string shared_path(const std::string& relative);
// Every line of a JSON-lines file, parsed. Fails the calling test when missing.
std::vector<boost::json::value> read_jsonl(const std::string& path);
// A fresh empty directory under the system temp dir, removed at exit.
std::string temp_dir();
// Runs the genstack binary with `args` (a shell-quoted string) and `input` on
// stdin; returns the exit code and fills stdout/stderr.
int run_genstack(const std::string& args, std::string* out, std::string* err = nullptr,
                 const std::string& input = "");

}  // namespace gs::test
