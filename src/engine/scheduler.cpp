#include "engine/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/constrained.h"
#include "engine/logprobs.h"
#include "engine/sequence.h"
#include "grammar/json_grammar.h"
#include "grammar/token_filter.h"

namespace gs {
namespace {
// Best first: lower priority value, then earlier arrival.
bool runs_before(const Sequence& a, const Sequence& b) {
  if (a.request.priority != b.request.priority) return a.request.priority < b.request.priority;
  return a.id < b.id;
}
}  // namespace

Result<std::unique_ptr<Scheduler>> Scheduler::create(const Model& model, ThreadPool& pool,
                                                     std::mutex& compute, const SchedulerOptions& options) {
  if (options.max_parallel <= 0) return Error("--parallel must be positive");
  if (options.n_ctx <= 0) return Error("context size must be positive");
  if (options.block_rows <= 0) return Error("KV block size must be positive");
  if (options.max_batch_tokens < options.max_parallel) {
    return Error("batch of {} tokens cannot hold {} parallel sequences", options.max_batch_tokens,
                 options.max_parallel);
  }
  std::unique_ptr<Scheduler> s(new Scheduler(model, compute, options));
  SchedulerOptions& o = s->options_;
  if (o.kv_tokens <= 0) {
    // Room for every slot's full context, up to 32k positions; preemption
    // covers the rare case where all of them grow long together.
    o.kv_tokens = std::max<int64_t>(o.n_ctx, std::min<int64_t>(o.n_ctx * o.max_parallel, 32768));
  }
  o.kv_tokens = std::max(o.kv_tokens, o.n_ctx);
  const int64_t n_blocks = (o.kv_tokens + o.block_rows - 1) / o.block_rows;
  GS_ASSIGN_OR_RETURN(s->cache_,
                      KvCache::create(model.config(), KvCacheOptions{n_blocks, o.block_rows, o.kv_type}));
  s->forward_ = std::make_unique<Forward>(model, *s->cache_, pool, o.n_ctx);
  s->blocks_ = std::make_unique<BlockPool>(static_cast<int32_t>(n_blocks), o.block_rows);
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  return s;
}

Scheduler::Scheduler(const Model& model, std::mutex& compute, const SchedulerOptions& options)
    : model_(model), compute_(compute), options_(options) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    stopping_ = true;
  }
  inbox_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Scheduler::Admission Scheduler::submit(GenerationRequest request, std::shared_ptr<SequenceSink> sink) {
  const auto n = static_cast<int64_t>(request.prompt.size());
  if (n == 0 || n >= options_.n_ctx) return Admission::kTooLong;
  std::lock_guard<std::mutex> lock(inbox_mutex_);
  if (stopping_) return Admission::kStopped;
  if (n_waiting_.load() + static_cast<int32_t>(inbox_.size()) >= options_.max_queue)
    return Admission::kQueueFull;
  inbox_.push_back(
      std::make_unique<Sequence>(std::move(request), std::move(sink), model_.tokenizer(), next_id_++));
  inbox_cv_.notify_one();
  return Admission::kAccepted;
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    s.waiting = n_waiting_.load() + static_cast<int32_t>(inbox_.size());
  }
  s.running = n_running_.load();
  s.blocks_used = blocks_used_.load();
  s.blocks_total = blocks_->n_blocks();
  s.block_rows = blocks_->block_rows();
  s.prefix_hit_tokens = prefix_hit_tokens_.load();
  s.preemptions = preemptions_.load();
  s.steps = steps_.load();
  return s;
}

bool Scheduler::idle() const {
  std::lock_guard<std::mutex> lock(inbox_mutex_);
  return inbox_.empty() && n_waiting_.load() == 0 && n_running_.load() == 0;
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(inbox_mutex_);
      inbox_cv_.wait(lock,
                     [&] { return stopping_ || !inbox_.empty() || !waiting_.empty() || !running_.empty(); });
      if (stopping_) break;
    }
    take_inbox();
    drop_cancelled();
    admit();
    if (!running_.empty()) {
      step();
    } else if (!waiting_.empty()) {
      // With nothing running every block is available, so the head must fit.
      retire(*waiting_.front(), FinishReason::kError, "sequence does not fit in the KV cache");
    }
    n_waiting_ = static_cast<int32_t>(waiting_.size());
    n_running_ = static_cast<int32_t>(running_.size());
    blocks_used_ = blocks_->in_use();
    last_active_ = std::chrono::steady_clock::now().time_since_epoch().count();
  }
  take_inbox();
  while (!running_.empty()) retire(*running_.back(), FinishReason::kCancelled);
  while (!waiting_.empty()) retire(*waiting_.back(), FinishReason::kCancelled);
  n_waiting_ = 0;
  n_running_ = 0;
}

void Scheduler::take_inbox() {
  std::vector<std::unique_ptr<Sequence>> arrived;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    arrived.swap(inbox_);
    n_waiting_ = static_cast<int32_t>(waiting_.size() + arrived.size());
  }
  for (auto& seq : arrived) waiting_.push_back(std::move(seq));
}

void Scheduler::drop_cancelled() {
  const auto now = Sequence::Clock::now();
  std::vector<Sequence*> done;
  const auto check = [&](const std::unique_ptr<Sequence>& seq) {
    if (seq->sink->cancelled() || now > seq->request.deadline) done.push_back(seq.get());
  };
  for (const auto& seq : running_) check(seq);
  for (const auto& seq : waiting_) check(seq);
  for (Sequence* seq : done) {
    retire(*seq, seq->sink->cancelled() ? FinishReason::kCancelled : FinishReason::kTimeout);
  }
}

void Scheduler::admit() {
  std::stable_sort(waiting_.begin(), waiting_.end(),
                   [](const auto& a, const auto& b) { return runs_before(*a, *b); });
  const int32_t br = blocks_->block_rows();
  while (!waiting_.empty() && static_cast<int32_t>(running_.size()) < options_.max_parallel) {
    Sequence& seq = *waiting_.front();
    if (seq.blocks.empty()) {
      // Reuse cached blocks, but always leave the last token to evaluate: its
      // logits start the generation.
      const int32_t max_blocks = static_cast<int32_t>((seq.tokens.size() - 1) / static_cast<size_t>(br));
      seq.blocks = blocks_->match_prefix(seq.tokens, max_blocks);
      seq.n_cached = static_cast<int64_t>(seq.blocks.size()) * br;
      seq.n_published = static_cast<int32_t>(seq.blocks.size());
    }
    const int64_t chunk = std::min(seq.pending(), options_.max_batch_tokens);
    const int64_t need = (seq.n_cached + chunk + br - 1) / br - static_cast<int64_t>(seq.blocks.size());
    if (blocks_->available() < need) {
      Sequence* victim = lowest_priority_running(nullptr);
      if (victim && runs_before(seq, *victim)) {
        preempt(*victim);
        continue;
      }
      blocks_->release_all(seq.blocks);
      seq.blocks.clear();
      seq.n_cached = 0;
      seq.n_published = 0;
      break;
    }
    if (seq.timings.preemptions == 0 && !seq.first_step) {
      seq.timings.cached_n = seq.n_cached;
      prefix_hit_tokens_ += static_cast<uint64_t>(seq.n_cached);
    }
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

Sequence* Scheduler::lowest_priority_running(const Sequence* except) {
  Sequence* worst = nullptr;
  for (auto& seq : running_) {
    if (seq.get() != except && (!worst || runs_before(*worst, *seq))) worst = seq.get();
  }
  return worst;
}

bool Scheduler::ensure_blocks(Sequence& seq, int64_t n_positions) {
  const int64_t br = blocks_->block_rows();
  while (static_cast<int64_t>(seq.blocks.size()) * br < n_positions) {
    const int32_t b = blocks_->allocate();
    if (b < 0) return false;
    seq.blocks.push_back(b);
  }
  return true;
}

void Scheduler::preempt(Sequence& seq) {
  blocks_->release_all(seq.blocks);
  seq.blocks.clear();
  seq.n_cached = 0;
  seq.n_published = 0;
  ++seq.timings.preemptions;
  ++preemptions_;
  auto it = std::find_if(running_.begin(), running_.end(), [&](const auto& p) { return p.get() == &seq; });
  waiting_.push_back(std::move(*it));
  running_.erase(it);
}

void Scheduler::step() {
  std::vector<Sequence*> order;
  for (auto& seq : running_) order.push_back(seq.get());
  std::sort(order.begin(), order.end(),
            [](const Sequence* a, const Sequence* b) { return runs_before(*a, *b); });
  // Decoding sequences take one token each; prompts share what is left of
  // the budget in priority order, so running streams never wait for a prompt.
  std::vector<Sequence*> batch;
  std::vector<int64_t> chunks;
  int64_t budget = options_.max_batch_tokens;
  for (Sequence* seq : order) {
    if (seq->pending() == 1) {
      batch.push_back(seq);
      chunks.push_back(1);
      --budget;
    }
  }
  for (Sequence* seq : order) {
    if (seq->pending() > 1 && budget > 0) {
      const int64_t chunk = std::min(seq->pending(), budget);
      batch.push_back(seq);
      chunks.push_back(chunk);
      budget -= chunk;
    }
  }
  for (size_t i = 0; i < batch.size();) {
    Sequence* seq = batch[i];
    if (ensure_blocks(*seq, seq->n_cached + chunks[i])) {
      ++i;
      continue;
    }
    Sequence* victim = lowest_priority_running(nullptr);
    const auto at = std::find(batch.begin(), batch.end(), victim);
    if (at != batch.end()) {
      const auto index = at - batch.begin();
      chunks.erase(chunks.begin() + index);
      batch.erase(at);
      if (static_cast<size_t>(index) < i) --i;
    }
    preempt(*victim);
  }
  if (!batch.empty()) run_batch(batch, chunks);
}

void Scheduler::run_batch(std::vector<Sequence*>& batch, std::vector<int64_t>& chunks) {
  std::vector<SequenceBatch> inputs;
  const auto now = Sequence::Clock::now();
  int64_t n_tokens = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    Sequence& seq = *batch[i];
    if (!seq.first_step) seq.first_step = now;
    const bool reaches_end = seq.n_cached + chunks[i] == static_cast<int64_t>(seq.tokens.size());
    inputs.push_back(SequenceBatch{
        std::span<const TokenId>(seq.tokens)
            .subspan(static_cast<size_t>(seq.n_cached), static_cast<size_t>(chunks[i])),
        seq.n_cached, seq.blocks, reaches_end ? SequenceBatch::Logits::kLast : SequenceBatch::Logits::kNone});
    if (seq.n_cached < seq.n_prompt) seq.timings.prompt_n += std::min(chunks[i], seq.n_prompt - seq.n_cached);
    n_tokens += chunks[i];
  }
  Result<const float*> logits = Status::Error("not run");
  const auto start = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(compute_);
    logits = forward_->eval(inputs);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++steps_;
  if (!logits.ok()) {
    for (Sequence* seq : batch) retire(*seq, FinishReason::kError, logits.error());
    return;
  }
  const size_t vocab = static_cast<size_t>(model_.config().n_vocab);
  size_t row = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    Sequence& seq = *batch[i];
    seq.n_cached += chunks[i];
    publish_blocks(seq);
    if (inputs[i].logits == SequenceBatch::Logits::kLast) sample(seq, *logits + vocab * row++);
  }
  if (step_observer_) step_observer_(StepStats{static_cast<int32_t>(batch.size()), n_tokens, seconds});
}

void Scheduler::publish_blocks(Sequence& seq) {
  const int32_t full = static_cast<int32_t>(seq.n_cached / blocks_->block_rows());
  for (int32_t i = seq.n_published; i < full; ++i)
    blocks_->publish(seq.blocks[static_cast<size_t>(i)], seq.tokens, i);
  seq.n_published = std::max(seq.n_published, full);
}

void Scheduler::sample(Sequence& seq, const float* logits) {
  const int32_t vocab = model_.tokenizer().vocab_size();
  const float* scores = logits;
  if (seq.matcher) {
    if (!token_filter_) token_filter_ = make_token_filter(model_.tokenizer());
    if (!mask_logits(*token_filter_, *seq.matcher, logits, vocab, row_))
      return retire(seq, FinishReason::kStop);
    scores = row_.data();
  }
  const TokenId token = seq.sampler.sample(scores);
  TokenLogprob logprob;
  if (seq.request.logprobs >= 0) logprob = token_logprob(logits, vocab, token, seq.request.logprobs);
  const auto reason = seq.accept(token, seq.request.logprobs >= 0 ? &logprob : nullptr, options_.n_ctx);
  if (reason) retire(seq, *reason);
}

void Scheduler::retire(Sequence& seq, FinishReason reason, std::string error) {
  seq.finish(reason, std::move(error));
  blocks_->release_all(seq.blocks);
  seq.blocks.clear();
  const auto same = [&](const auto& p) { return p.get() == &seq; };
  if (auto it = std::find_if(running_.begin(), running_.end(), same); it != running_.end()) {
    running_.erase(it);
  } else if (auto w = std::find_if(waiting_.begin(), waiting_.end(), same); w != waiting_.end()) {
    waiting_.erase(w);
  }
}

}  // namespace gs
