#include "cli/options.h"

namespace gs::cli {

void add_engine_options(CLI::App& cmd, EngineArgs& args) {
  cmd.add_option("-t,--threads", args.threads, "threads (default: one per physical core)")
      ->check(CLI::Range(0, 1024));
  cmd.add_option("-c,--ctx", args.ctx, "context size in tokens (default: training context, at most 4096)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd.add_option("-b,--batch", args.batch, "prompt tokens per forward pass")->check(CLI::Range(1, 1 << 16));
  cmd.add_option("--kv-type", args.kv_type, "KV cache type: f16, q8_0 or f32");
}

void add_sampling_options(CLI::App& cmd, SamplingParams& p) {
  cmd.add_option("--temp", p.temperature, "temperature (0: greedy)");
  cmd.add_option("--top-k", p.top_k, "keep the k most likely tokens (0: off)");
  cmd.add_option("--top-p", p.top_p, "nucleus sampling threshold (1: off)");
  cmd.add_option("--min-p", p.min_p, "drop tokens below min-p x the top probability (0: off)");
  cmd.add_option("--repeat-penalty", p.repeat_penalty, "penalty for repeated tokens (1: off)");
  cmd.add_option("--repeat-last-n", p.repeat_last_n, "tokens considered by the penalties");
  cmd.add_option("--presence-penalty", p.presence_penalty, "OpenAI-style presence penalty");
  cmd.add_option("--frequency-penalty", p.frequency_penalty, "OpenAI-style frequency penalty");
  cmd.add_option("-s,--seed", p.seed, "random seed (same seed, same output)");
}

Result<GgmlType> parse_kv_type(const std::string& name) {
  auto type = parse_type_name(name);
  if (!type || (*type != GgmlType::F16 && *type != GgmlType::Q8_0 && *type != GgmlType::F32)) {
    return Error("unknown KV cache type '{}' (use f16, q8_0 or f32)", name);
  }
  return *type;
}

Result<Engine> load_engine(const EngineArgs& args, const std::string& model_path) {
  Engine engine;
  GS_ASSIGN_OR_RETURN(GgmlType kv_type, parse_kv_type(args.kv_type));
  GS_ASSIGN_OR_RETURN(engine.model, Model::load(model_path));
  engine.pool = std::make_unique<ThreadPool>(args.threads);
  ContextOptions options;
  options.n_ctx = args.ctx;
  options.n_batch = args.batch;
  options.kv_type = kv_type;
  GS_ASSIGN_OR_RETURN(engine.context, Context::create(*engine.model, options, *engine.pool));
  return engine;
}

}  // namespace gs::cli
