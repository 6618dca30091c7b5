#include "server/server_metrics.h"

#include <fmt/format.h>

#include "server/model_manager.h"

namespace gs::server {

void ServerMetrics::request_done(std::string_view model, std::string_view endpoint, int status) {
  registry_
      .counter("genstack_requests_total", "HTTP API requests by model, endpoint and status code",
               {{"model", std::string(model)},
                {"endpoint", std::string(endpoint)},
                {"status", std::to_string(status)}})
      .inc();
}

void ServerMetrics::sequence_done(std::string_view model, const SequenceTimings& t) {
  const obs::Labels labels = {{"model", std::string(model)}};
  registry_
      .histogram("genstack_queue_wait_seconds", "Time from arrival to the first forward pass",
                 obs::latency_buckets(), labels)
      .observe(t.queue_ms / 1000);
  if (t.predicted_n > 0) {
    registry_
        .histogram("genstack_time_to_first_token_seconds", "Time from arrival to the first generated token",
                   obs::latency_buckets(), labels)
        .observe((t.queue_ms + t.prompt_ms) / 1000);
  }
  if (t.predicted_n > 1) {
    registry_
        .histogram("genstack_time_per_output_token_seconds", "Mean time between generated tokens",
                   obs::token_time_buckets(), labels)
        .observe(t.predicted_ms / 1000 / static_cast<double>(t.predicted_n - 1));
  }
  registry_
      .histogram("genstack_e2e_request_latency_seconds", "Time from arrival to the last token",
                 obs::latency_buckets(), labels)
      .observe((t.queue_ms + t.prompt_ms + t.predicted_ms) / 1000);
  registry_
      .counter("genstack_prompt_tokens_total", "Prompt tokens evaluated (not from the prefix cache)", labels)
      .inc(static_cast<double>(t.prompt_n));
  registry_.counter("genstack_generation_tokens_total", "Tokens generated", labels)
      .inc(static_cast<double>(t.predicted_n));
}

void ServerMetrics::step(std::string_view model, const StepStats& stats) {
  const obs::Labels labels = {{"model", std::string(model)}};
  registry_
      .histogram("genstack_batch_sequences", "Sequences in each forward pass", obs::count_buckets(), labels)
      .observe(stats.sequences);
  registry_.histogram("genstack_batch_tokens", "Tokens in each forward pass", obs::count_buckets(), labels)
      .observe(static_cast<double>(stats.tokens));
}

std::string ServerMetrics::render(const ModelManager& models) {
  for (const auto& m : models.loaded()) {
    const SchedulerStats s = m->scheduler->stats();
    const obs::Labels labels = {{"model", m->id}};
    registry_.gauge("genstack_queue_length", "Requests waiting for a batch slot", labels).set(s.waiting);
    registry_.gauge("genstack_running_sequences", "Sequences in the running batch", labels).set(s.running);
    registry_.gauge("genstack_kv_cache_blocks_used", "KV cache blocks held by sequences", labels)
        .set(s.blocks_used);
    registry_.gauge("genstack_kv_cache_blocks", "KV cache blocks in all", labels).set(s.blocks_total);
    registry_.gauge("genstack_kv_cache_block_tokens", "Positions per KV cache block", labels)
        .set(s.block_rows);
    // Scheduler totals are monotonic; the counters catch up to them.
    auto& hits = registry_.counter("genstack_prefix_cache_hit_tokens_total",
                                   "Prompt tokens served from the prefix cache", labels);
    if (static_cast<double>(s.prefix_hit_tokens) > hits.value())
      hits.inc(static_cast<double>(s.prefix_hit_tokens) - hits.value());
    auto& preempt = registry_.counter("genstack_preemptions_total",
                                      "Sequences preempted (KV blocks freed, recomputed later)", labels);
    if (static_cast<double>(s.preemptions) > preempt.value())
      preempt.inc(static_cast<double>(s.preemptions) - preempt.value());
  }
  registry_.gauge("genstack_models_loaded", "Models in memory")
      .set(static_cast<double>(models.loaded().size()));
  return registry_.render();
}

}  // namespace gs::server
