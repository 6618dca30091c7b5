// Continuous batching is invisible: a sequence decoded in a batch with
// others, after a preemption or from the prefix cache gives the same tokens
// as decoded alone with the single-sequence Context.
#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "engine/block_pool.h"
#include "engine/generator.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"
#include "model/context.h"
#include "model/model.h"
#include "test_util.h"

namespace gs {
namespace {

class CollectSink : public SequenceSink {
 public:
  void on_token(std::string_view text, const TokenLogprob* logprob) override {
    std::lock_guard<std::mutex> lock(mutex_);
    text_ += text;
    if (logprob) logprobs_.push_back(*logprob);
  }
  void on_finish(const SequenceResult& result) override {
    std::lock_guard<std::mutex> lock(mutex_);
    result_ = result;
    done_ = true;
    cv_.notify_all();
  }
  bool cancelled() const override { return cancel_; }
  void cancel() { cancel_ = true; }
  SequenceResult wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return done_; });
    return result_;
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }
  std::vector<TokenLogprob> logprobs_;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string text_;
  SequenceResult result_;
  bool done_ = false;
  std::atomic<bool> cancel_{false};
};

struct Fixture {
  Fixture() {
    auto loaded = Model::load(test::shared_path("models/stories260K.gguf"));
    EXPECT_TRUE(loaded.ok()) << loaded.error();
    model = std::move(*loaded);
  }
  std::string alone(const std::string& prompt, int64_t n) {
    auto context = Context::create(*model, ContextOptions{512, 512, GgmlType::F16}, pool);
    EXPECT_TRUE(context.ok());
    GenerateOptions options;
    options.max_tokens = n;
    options.sampling.temperature = 0;
    options.ignore_eos = true;
    std::string text;
    const auto ids = model->tokenizer().encode(prompt, true);
    auto stats = generate(**context, model->tokenizer(), ids, options, [&](std::string_view t) {
      text += t;
      return true;
    });
    EXPECT_TRUE(stats.ok());
    return text;
  }
  GenerationRequest request(const std::string& prompt, int64_t n) {
    GenerationRequest r;
    r.prompt = model->tokenizer().encode(prompt, true);
    r.max_tokens = n;
    r.sampling.temperature = 0;
    r.ignore_eos = true;
    return r;
  }
  ThreadPool pool{2};
  std::mutex compute;
  std::unique_ptr<Model> model;
};

std::vector<std::string> prompts() {
  std::vector<std::string> out;
  const char* starts[] = {"Once upon a time", "The little dog", "Lily wanted", "One day, a boy named Tim",
                          "The sun was",      "A big red ball", "Mom said",    "In the park"};
  for (int i = 0; i < 16; ++i) out.push_back(std::string(starts[i % 8]) + (i >= 8 ? " and then" : ""));
  return out;
}

TEST(Scheduler, BatchedGreedyMatchesAlone) {
  Fixture f;
  const auto ps = prompts();
  std::vector<std::string> expected;
  for (const auto& p : ps) expected.push_back(f.alone(p, 40));
  SchedulerOptions options;
  options.n_ctx = 512;
  auto scheduler = Scheduler::create(*f.model, f.pool, f.compute, options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.error();
  std::vector<std::shared_ptr<CollectSink>> sinks;
  for (const auto& p : ps) {
    sinks.push_back(std::make_shared<CollectSink>());
    ASSERT_EQ((*scheduler)->submit(f.request(p, 40), sinks.back()), Scheduler::Admission::kAccepted);
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto result = sinks[i]->wait();
    EXPECT_EQ(result.reason, FinishReason::kLength);
    EXPECT_EQ(result.timings.predicted_n, 40);
    EXPECT_EQ(sinks[i]->text(), expected[i]) << "prompt " << i;
  }
}

TEST(Scheduler, PreemptionUnderTinyCacheKeepsOutputs) {
  Fixture f;
  const auto ps = prompts();
  std::vector<std::string> expected;
  for (size_t i = 0; i < 6; ++i) expected.push_back(f.alone(ps[i], 60));
  SchedulerOptions options;
  options.n_ctx = 128;
  options.kv_tokens = 160;  // room for about two sequences: the rest wait or get preempted
  options.block_rows = 8;
  options.max_batch_tokens = 64;
  auto scheduler = Scheduler::create(*f.model, f.pool, f.compute, options);
  ASSERT_TRUE(scheduler.ok()) << scheduler.error();
  std::vector<std::shared_ptr<CollectSink>> sinks;
  for (size_t i = 0; i < 6; ++i) {
    sinks.push_back(std::make_shared<CollectSink>());
    ASSERT_EQ((*scheduler)->submit(f.request(ps[i], 60), sinks.back()), Scheduler::Admission::kAccepted);
  }
  for (size_t i = 0; i < sinks.size(); ++i) {
    EXPECT_EQ(sinks[i]->wait().reason, FinishReason::kLength);
    EXPECT_EQ(sinks[i]->text(), expected[i]) << "prompt " << i;
  }
  EXPECT_GT((*scheduler)->stats().preemptions, 0u);
}

TEST(Scheduler, PrefixCacheReusesBlocks) {
  Fixture f;
  std::string prefix;
  for (int i = 0; i < 20; ++i) prefix += "Once upon a time there was a little girl. ";
  SchedulerOptions options;
  options.n_ctx = 512;
  auto scheduler = Scheduler::create(*f.model, f.pool, f.compute, options);
  ASSERT_TRUE(scheduler.ok());
  const std::string expected = f.alone(prefix + "He", 8);
  auto first = std::make_shared<CollectSink>();
  ASSERT_EQ((*scheduler)->submit(f.request(prefix + "She", 8), first), Scheduler::Admission::kAccepted);
  EXPECT_EQ(first->wait().timings.cached_n, 0);
  auto second = std::make_shared<CollectSink>();
  ASSERT_EQ((*scheduler)->submit(f.request(prefix + "He", 8), second), Scheduler::Admission::kAccepted);
  const auto result = second->wait();
  EXPECT_GE(result.timings.cached_n, 100);
  EXPECT_EQ((*scheduler)->stats().prefix_hit_tokens, static_cast<uint64_t>(result.timings.cached_n));
  EXPECT_EQ(second->text(), expected);
}

TEST(Scheduler, StopStringsLogprobsAndCancel) {
  Fixture f;
  const std::string full = f.alone("Once upon a time", 30);
  ASSERT_GT(full.size(), 12u);
  const std::string stop = full.substr(8, 4);
  SchedulerOptions options;
  options.n_ctx = 256;
  auto scheduler = Scheduler::create(*f.model, f.pool, f.compute, options);
  ASSERT_TRUE(scheduler.ok());
  auto sink = std::make_shared<CollectSink>();
  auto r = f.request("Once upon a time", 30);
  r.stop = {stop};
  r.logprobs = 3;
  ASSERT_EQ((*scheduler)->submit(r, sink), Scheduler::Admission::kAccepted);
  EXPECT_EQ(sink->wait().reason, FinishReason::kStop);
  EXPECT_EQ(sink->text(), full.substr(0, full.find(stop)));
  ASSERT_FALSE(sink->logprobs_.empty());
  for (const auto& lp : sink->logprobs_) {
    EXPECT_LE(lp.logprob, 0.0f);
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_EQ(lp.top[0].first, lp.token);  // greedy picks the most likely
  }
  auto cancelled = std::make_shared<CollectSink>();
  cancelled->cancel();
  ASSERT_EQ((*scheduler)->submit(f.request("The dog", 100), cancelled), Scheduler::Admission::kAccepted);
  EXPECT_EQ(cancelled->wait().reason, FinishReason::kCancelled);
  EXPECT_EQ((*scheduler)->submit(f.request(std::string(3000, 'a'), 1), cancelled),
            Scheduler::Admission::kTooLong);
}

TEST(StopFilter, HoldsBackPossibleStops) {
  StopFilter filter({"END", ""});
  EXPECT_EQ(filter.push("abc E"), "abc ");
  EXPECT_EQ(filter.push("N"), "");
  EXPECT_EQ(filter.push("x"), "ENx");
  EXPECT_EQ(filter.push("yEND tail"), "y");
  EXPECT_TRUE(filter.stopped());
  EXPECT_EQ(filter.flush(), "");
}

TEST(BlockPool, PublishMatchEvict) {
  BlockPool pool(3, 2);
  const std::vector<TokenId> tokens = {1, 2, 3, 4, 5};
  const int32_t a = pool.allocate(), b = pool.allocate();
  pool.publish(a, tokens, 0);
  pool.publish(b, tokens, 1);
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.available(), 3);
  auto match = pool.match_prefix(tokens, 2);
  EXPECT_EQ(match, (std::vector<int32_t>{a, b}));
  EXPECT_EQ(pool.available(), 1);
  const std::vector<TokenId> other = {1, 2, 9, 9};
  EXPECT_EQ(pool.match_prefix(other, 2).size(), 1u);  // first block shared, second differs
  for (int32_t x : match) pool.release(x);
  pool.release(a);
  EXPECT_NE(pool.allocate(), -1);
  EXPECT_NE(pool.allocate(), -1);
  EXPECT_NE(pool.allocate(), -1);  // evicts the cached blocks
  EXPECT_EQ(pool.allocate(), -1);
}

}  // namespace
}  // namespace gs
