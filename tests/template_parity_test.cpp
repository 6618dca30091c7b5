// Must-show 2: real chat templates render byte-identically to
// @huggingface/jinja. The expected outputs were produced by
// tools/template-parity/generate.mjs and are committed under
// tests/data/templates/ (no node at test time).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "template/template.h"

namespace gs {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

fs::path data_dir() { return fs::path(__FILE__).parent_path() / "data" / "templates"; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> template_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(data_dir())) {
    const std::string f = e.path().filename().string();
    const std::string suffix = ".cases.json";
    if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0) {
      names.push_back(f.substr(0, f.size() - suffix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The generator froze its clock at this local time for strftime_now().
std::tm frozen_now(const std::string& iso) {
  std::tm tm{};
  std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
              &tm.tm_sec);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t t = timegm(&tm);
  gmtime_r(&t, &tm);  // fills in the weekday and day of the year
  return tm;
}

// Where two strings first differ, for a readable failure.
std::string first_difference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  const size_t from = i > 40 ? i - 40 : 0;
  return "at byte " + std::to_string(i) + "\n  want: ..." +
         json::serialize(json::string(want.substr(from, 100))) + "\n  got:  ..." +
         json::serialize(json::string(got.substr(from, 100)));
}

class TemplateParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TemplateParity, RendersLikeHuggingFaceJinja) {
  const std::string name = GetParam();
  const std::string source = read_file(data_dir() / (name + ".jinja"));
  const json::value doc = json::parse(read_file(data_dir() / (name + ".cases.json")));
  auto tmpl = tmpl::Template::parse(source);
  ASSERT_TRUE(tmpl.ok()) << tmpl.error();

  tmpl::RenderOptions options;
  options.now = frozen_now(std::string(doc.at("now").as_string()));
  const json::array& cases = doc.at("cases").as_array();
  EXPECT_GE(cases.size(), 20u);
  int rendered = 0, raised = 0;
  for (const json::value& c : cases) {
    const std::string id(c.at("id").as_string());
    auto out = tmpl->render(c.at("context").as_object(), options);
    if (const json::value* err = c.as_object().if_contains("error")) {
      const std::string want(err->as_string());
      EXPECT_FALSE(out.ok()) << name << "/" << id << ": expected the error \"" << want << "\"";
      if (!out.ok()) {
        EXPECT_NE(out.error().find(want), std::string::npos) << name << "/" << id << ": " << out.error();
        ++raised;
      }
      continue;
    }
    ASSERT_TRUE(out.ok()) << name << "/" << id << ": " << out.error();
    const std::string want(c.at("expected").as_string());
    EXPECT_TRUE(want == *out) << name << "/" << id << ": " << first_difference(want, *out);
    rendered += want == *out;
  }
  std::printf("%s: %d/%zu identical renders, %d expected errors raised\n", name.c_str(), rendered,
              cases.size(), raised);
}

INSTANTIATE_TEST_SUITE_P(RealTemplates, TemplateParity, ::testing::ValuesIn(template_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace gs
