#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "observe/registry.h"
#include "observe/text_format.h"
#include "test_util.h"

namespace gs::obs {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(Metrics, CounterAndGaugeValues) {
  Registry r;
  Counter& c = r.counter("requests_total", "Requests.");
  EXPECT_EQ(c.value(), 0.0);
  c.inc();
  c.inc(2);
  c.inc(0.25);
  EXPECT_DOUBLE_EQ(c.value(), 3.25);

  Gauge& g = r.gauge("queue_depth", "Queued requests.");
  g.set(5);
  g.inc();
  g.dec(2.5);
  EXPECT_DOUBLE_EQ(g.value(), 3.5);
  g.set(-1);
  EXPECT_EQ(g.value(), -1.0);
}

TEST(Metrics, SameNameAndLabelsReturnSameObject) {
  Registry r;
  Counter& a = r.counter("tokens_total", "Tokens.", {{"model", "m"}, {"kind", "prompt"}});
  Counter& b = r.counter("tokens_total", "Tokens.", {{"kind", "prompt"}, {"model", "m"}});  // other order
  Counter& other = r.counter("tokens_total", "Tokens.", {{"model", "m"}, {"kind", "output"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  Histogram& h = r.histogram("step_seconds", "Step time.", latency_buckets());
  // Many registrations later the first references still work and still match.
  for (int i = 0; i < 1000; ++i) {
    const std::string n = std::to_string(i);
    r.gauge(std::string("g").append(n), "Filler.",
            {{"i", n}});  // not "g" + n: GCC 12 -Wrestrict false positive
  }
  a.inc(3);
  EXPECT_EQ(&r.counter("tokens_total", "Tokens.", {{"model", "m"}, {"kind", "prompt"}}), &a);
  EXPECT_EQ(&r.histogram("step_seconds", "Step time.", latency_buckets()), &h);
  EXPECT_EQ(b.value(), 3.0);
}

TEST(Metrics, RenderExactText) {
  Registry r;
  r.gauge("temperature_celsius", "Line one\nback\\slash \"quoted\"").set(21.5);
  r.counter("http_requests_total", "HTTP requests.", {{"path", "C:\\dir \"x\"\nnext"}, {"code", "200"}})
      .inc(7);
  r.counter("http_requests_total", "HTTP requests.", {{"path", "/"}, {"code", "404"}}).inc();
  const double bounds[] = {0.5, 1, 2.5};
  Histogram& h = r.histogram("latency_seconds", "Latency.", bounds, {{"model", "a"}});
  for (double v : {0.25, 0.5, 0.75, 3.0}) h.observe(v);  // exact sum
  r.histogram("size_bytes", "Sizes.", count_buckets()).observe(1000000);

  const std::string expected =
      "# HELP http_requests_total HTTP requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{path=\"C:\\\\dir \\\"x\\\"\\nnext\",code=\"200\"} 7\n"
      "http_requests_total{path=\"/\",code=\"404\"} 1\n"
      "# HELP latency_seconds Latency.\n"
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{model=\"a\",le=\"0.5\"} 2\n"
      "latency_seconds_bucket{model=\"a\",le=\"1\"} 3\n"
      "latency_seconds_bucket{model=\"a\",le=\"2.5\"} 3\n"
      "latency_seconds_bucket{model=\"a\",le=\"+Inf\"} 4\n"
      "latency_seconds_sum{model=\"a\"} 4.5\n"
      "latency_seconds_count{model=\"a\"} 4\n"
      "# HELP size_bytes Sizes.\n"
      "# TYPE size_bytes histogram\n"
      "size_bytes_bucket{le=\"1\"} 0\n"
      "size_bytes_bucket{le=\"2\"} 0\n"
      "size_bytes_bucket{le=\"4\"} 0\n"
      "size_bytes_bucket{le=\"8\"} 0\n"
      "size_bytes_bucket{le=\"16\"} 0\n"
      "size_bytes_bucket{le=\"32\"} 0\n"
      "size_bytes_bucket{le=\"64\"} 0\n"
      "size_bytes_bucket{le=\"128\"} 0\n"
      "size_bytes_bucket{le=\"256\"} 0\n"
      "size_bytes_bucket{le=\"512\"} 0\n"
      "size_bytes_bucket{le=\"1024\"} 0\n"
      "size_bytes_bucket{le=\"2048\"} 0\n"
      "size_bytes_bucket{le=\"4096\"} 0\n"
      "size_bytes_bucket{le=\"+Inf\"} 1\n"
      "size_bytes_sum 1000000\n"
      "size_bytes_count 1\n"
      "# HELP temperature_celsius Line one\\nback\\\\slash \"quoted\"\n"
      "# TYPE temperature_celsius gauge\n"
      "temperature_celsius 21.5\n";
  EXPECT_EQ(r.render(), expected);
}

// Families by name, series by label set: the same metrics give the same text
// whatever order (or thread) registered them.
TEST(Metrics, StableOutputOrder) {
  Registry a, b;
  a.counter("b_total", "B.", {{"x", "2"}}).inc();
  a.counter("b_total", "B.", {{"x", "1"}}).inc();
  a.gauge("a_value", "A.", {{"k", "v"}, {"j", "w"}}).set(1);
  a.histogram("c_seconds", "C.", latency_buckets()).observe(0.2);

  b.histogram("c_seconds", "C.", latency_buckets()).observe(0.2);
  b.gauge("a_value", "A.", {{"k", "v"}, {"j", "w"}}).set(1);
  b.counter("b_total", "B.", {{"x", "1"}}).inc();
  b.counter("b_total", "B.", {{"x", "2"}}).inc();

  const std::string text = a.render();
  EXPECT_EQ(text, b.render());
  EXPECT_EQ(text, a.render());
  EXPECT_LT(text.find("a_value{k=\"v\",j=\"w\"} 1"), text.find("b_total{x=\"1\"} 1"));
  EXPECT_LT(text.find("b_total{x=\"1\"}"), text.find("b_total{x=\"2\"}"));
  EXPECT_LT(text.find("b_total{x=\"2\"}"), text.find("c_seconds_bucket"));
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry r;
  const double bounds[] = {1, 2, 4, kInf};  // a trailing +Inf is implicit: dropped
  Histogram& h = r.histogram("work_seconds", "Work.", bounds);
  ASSERT_EQ(h.bounds().size(), 3u);
  // Bounds are inclusive (v <= le); NaN and values above every bound land in +Inf only.
  for (double v : {0.5, 1.0, 1.5, 2.0, 2.0, 3.0, 4.0, 5.0, 1e9, kInf, kNaN}) h.observe(v);
  const Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 5, 7, 11}));
  EXPECT_EQ(s.count, 11u);
  EXPECT_EQ(s.cumulative.back(), s.count);
  EXPECT_TRUE(std::isnan(s.sum));

  Histogram& g = r.histogram("other_seconds", "Other.", latency_buckets());
  double sum = 0;
  for (int i = 0; i < 200; ++i) {
    const double v = 0.001 * i * i;
    g.observe(v);
    sum += v;
  }
  const Histogram::Snapshot t = g.snapshot();
  for (size_t i = 1; i < t.cumulative.size(); ++i) EXPECT_LE(t.cumulative[i - 1], t.cumulative[i]);
  for (size_t i = 0; i < g.bounds().size(); ++i) {
    uint64_t expected = 0;
    for (int k = 0; k < 200; ++k) expected += 0.001 * k * k <= g.bounds()[i];
    EXPECT_EQ(t.cumulative[i], expected) << "le=" << g.bounds()[i];
  }
  EXPECT_EQ(t.cumulative.back(), 200u);
  EXPECT_NEAR(t.sum, sum, 1e-9 * sum);

  const std::string text = r.render();
  EXPECT_NE(text.find("other_seconds_bucket{le=\"+Inf\"} 200\n"), std::string::npos);
  EXPECT_NE(text.find("other_seconds_count 200\n"), std::string::npos);
}

TEST(Metrics, ConcurrentUpdatesSumExactly) {
  Registry r;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      // Registration races too: every thread must get the same objects.
      Counter& c = r.counter("ops_total", "Ops.", {{"shard", "0"}});
      Counter& fractional = r.counter("weight_total", "Weight.");
      Gauge& g = r.gauge("in_flight", "In flight.");
      Histogram& h = r.histogram("batch_size", "Batch sizes.", count_buckets());
      for (int i = 0; i < kPerThread; ++i) {
        c.inc();
        fractional.inc(0.5);  // exact in binary: the sums stay exact
        g.inc(2);
        g.dec();
        h.observe(static_cast<double>((i + t) % 8));
      }
    });
  }
  for (auto& th : threads) th.join();
  constexpr double kTotal = double{kThreads} * kPerThread;
  EXPECT_EQ(r.counter("ops_total", "Ops.", {{"shard", "0"}}).value(), kTotal);
  EXPECT_EQ(r.counter("weight_total", "Weight.").value(), kTotal / 2);
  EXPECT_EQ(r.gauge("in_flight", "In flight.").value(), kTotal);
  const Histogram::Snapshot s = r.histogram("batch_size", "Batch sizes.", count_buckets()).snapshot();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kTotal));
  EXPECT_EQ(s.cumulative[0], static_cast<uint64_t>(kTotal) / 4);  // values 0 and 1 of 0..7
  EXPECT_EQ(s.sum, kTotal * 3.5);
}

TEST(MetricsText, Names) {
  EXPECT_TRUE(text::is_metric_name("a:b_c9"));
  EXPECT_TRUE(text::is_metric_name("_x"));
  EXPECT_FALSE(text::is_metric_name(""));
  EXPECT_FALSE(text::is_metric_name("9a"));
  EXPECT_FALSE(text::is_metric_name("a-b"));
  EXPECT_FALSE(text::is_metric_name("a\xC3\xA9"));
  EXPECT_TRUE(text::is_label_name("_model"));
  EXPECT_FALSE(text::is_label_name("a:b"));
  EXPECT_FALSE(text::is_label_name("__name__"));
  EXPECT_EQ(text::sanitize_metric_name("9 lives/s"), "_9_lives_s");
  EXPECT_EQ(text::sanitize_metric_name(""), "_");
  EXPECT_EQ(text::sanitize_label_name("__meta"), "_meta");
  EXPECT_EQ(text::sanitize_label_name("a:b"), "a_b");
  for (std::string_view s : {"9 lives/s", "", "__x", "___", "a\xC3\xA9"}) {
    EXPECT_TRUE(text::is_metric_name(text::sanitize_metric_name(s))) << s;
    EXPECT_TRUE(text::is_label_name(text::sanitize_label_name(s))) << s;
  }
}

TEST(MetricsText, Utf8AndNumbers) {
  EXPECT_EQ(text::to_valid_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(text::to_valid_utf8("a\xFF"
                                "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(text::to_valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(text::to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(text::to_valid_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // truncated
  const auto number = [](double v) {
    std::string s;
    text::append_number(s, v);
    return s;
  };
  EXPECT_EQ(number(0), "0");
  EXPECT_EQ(number(-3), "-3");
  EXPECT_EQ(number(1e6), "1000000");
  EXPECT_EQ(number(0.005), "0.005");
  EXPECT_EQ(number(0.1 + 0.2), "0.30000000000000004");  // round-trips
  EXPECT_EQ(number(1e300), "1e+300");
  EXPECT_EQ(number(kInf), "+Inf");
  EXPECT_EQ(number(-kInf), "-Inf");
  EXPECT_EQ(number(kNaN), "NaN");
}

#ifdef NDEBUG
// Release builds repair misuse instead of stopping (debug builds abort).
TEST(Metrics, ReleaseBuildsRepairMisuse) {
  Registry r;
  r.counter("requests", "No _total suffix.").inc();
  r.gauge("bad-name", "Dash.", {{"__reserved", "1"}, {"a:b", "2"}, {"x", "first"}, {"x", "second"}}).set(1);
  r.histogram("h_seconds", "Reserved le.", std::vector<double>{2, 1, kNaN, 1}, {{"le", "x"}}).observe(1.5);
  Gauge& conflict = r.gauge("requests_total", "Same name as the counter.");
  conflict.set(99);
  r.gauge("h_seconds_count", "Collides with the histogram.").set(98);
  r.gauge("label_value", "Invalid UTF-8.", {{"v", "a\xFF"}}).set(1);

  const std::string text = r.render();
  EXPECT_NE(text.find("requests_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("bad_name{_reserved=\"1\",a_b=\"2\",x=\"first\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{_le=\"x\",le=\"1\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{_le=\"x\",le=\"2\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("label_value{v=\"a\xEF\xBF\xBD\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("99"), std::string::npos) << text;  // detached: never rendered
  EXPECT_EQ(text.find("98"), std::string::npos) << text;
  EXPECT_EQ(conflict.value(), 99.0);
}
#else
TEST(MetricsDeathTest, DebugBuildsStopAtMisuse) {
  EXPECT_DEATH(Registry().counter("requests", "No _total suffix."), "_total");
  EXPECT_DEATH(Registry().gauge("a", "Bad label.", {{"__x", "1"}}), "invalid label name");
}
#endif

// Every kind of metric, awkward label values and the default buckets, checked
// by Prometheus' own parser and linter.
TEST(Metrics, PromtoolAcceptsOutput) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    FAIL() << "promtool not found: run scripts/install.sh --deps-only (Debian package prometheus)";
  }
  Registry r;
  const Labels awkward = {{"model", "ai/smollm2:135M \"Q8_0\""},
                          {"path", "C:\\models\\new\nline"},
                          {"text", "{a=\"1\",b='2'} # not a comment, \t tab"},
                          {"unicode", "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"},
                          {"invalid_utf8", "\xFF\xFE"},
                          {"empty", ""}};
  r.counter("genstack_requests_total", "Requests \\ served\nby \"status\".", awkward).inc(3);
  r.counter("genstack_requests_total", "Requests.", {{"model", "other"}}).inc(0.5);
  r.gauge("genstack_requests_running", "Requests being decoded.").set(-2);
  r.gauge("genstack_kv_cache_usage_ratio", "KV cache in use.", {{"model", "x"}}).set(kNaN);
  r.gauge("genstack_memory_limit_bytes", "Limit.").set(kInf);
  Histogram& ttft = r.histogram("genstack_time_to_first_token_seconds", "TTFT.", latency_buckets(), awkward);
  Histogram& tpot = r.histogram("genstack_time_per_output_token_seconds", "TPOT.", token_time_buckets());
  Histogram& batch =
      r.histogram("genstack_batch_size_tokens", "Batch.", count_buckets(), {{"phase", "decode"}});
  for (int i = 0; i < 100; ++i) {
    ttft.observe(0.003 * i);
    tpot.observe(0.0004 * i);
    batch.observe(i);
  }
  const std::string text = r.render();

  const std::string path = test::temp_dir() + "/metrics.prom";
  std::ofstream(path, std::ios::binary) << text;
  std::FILE* pipe = popen(("promtool check metrics < '" + path + "' 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) output.append(buf.data(), n);
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "promtool check metrics:\n" << output << "\non:\n" << text;
}

}  // namespace
}  // namespace gs::obs
