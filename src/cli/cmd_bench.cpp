// `genstack bench MODEL`: prompt (ppN) and decode (tgN) throughput, like
// llama-bench, plus this machine's read bandwidth and the share of it decode uses.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/bandwidth.h"
#include "model/forward.h"
#include "model/kv_cache.h"
#include "tensor/cpu.h"

namespace gs::cli {
namespace {

struct BenchArgs {
  std::string model;
  int64_t prompt_tokens = 512;
  int64_t gen_tokens = 128;
  int64_t depth = 0;
  int64_t sequences = 1;  // > 1: tgN also with this many sequences decoding together
  int repetitions = 3;
  bool json = false;
  bool skip_bandwidth = false;
  EngineArgs engine;
};

struct Figure {
  std::string test;
  double mean = 0.0, stddev = 0.0;
  std::vector<double> samples;
};

Figure summarize(std::string test, std::vector<double> samples) {
  Figure f{std::move(test), 0.0, 0.0, std::move(samples)};
  for (double s : f.samples) f.mean += s;
  f.mean /= static_cast<double>(f.samples.size());
  for (double s : f.samples) f.stddev += (s - f.mean) * (s - f.mean);
  if (f.samples.size() > 1) f.stddev = std::sqrt(f.stddev / static_cast<double>(f.samples.size() - 1));
  return f;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<TokenId> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TokenId> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<TokenId>(rng() % static_cast<uint64_t>(vocab));
  return ids;
}

// Tokens/s of one prompt evaluation of n tokens in a fresh context.
Result<double> time_prompt(Context& ctx, const std::vector<TokenId>& ids) {
  ctx.truncate(0);
  const double start = now_seconds();
  GS_RETURN_IF_ERROR(ctx.eval(ids, false).status());
  return static_cast<double>(ids.size()) / (now_seconds() - start);
}

// Tokens/s decoding ids one at a time after the first `depth` cached tokens.
Result<double> time_decode(Context& ctx, int64_t depth, const std::vector<TokenId>& ids) {
  ctx.truncate(depth);
  const double start = now_seconds();
  for (TokenId id : ids) GS_RETURN_IF_ERROR(ctx.eval(std::span<const TokenId>(&id, 1), false).status());
  return static_cast<double>(ids.size()) / (now_seconds() - start);
}

// Aggregate tokens/s of `n_seq` sequences decoding together, one token each
// per forward pass (what the server's continuous batching does at n_seq
// streams), each over its own block of the KV cache after `depth` tokens.
Result<std::vector<double>> time_batched_decode(const BenchArgs& args, Engine& engine) {
  const ModelConfig& c = engine.model->config();
  const int64_t rows = args.depth + args.gen_tokens + 1;
  GS_ASSIGN_OR_RETURN(GgmlType kv_type, parse_kv_type(args.engine.kv_type));
  GS_ASSIGN_OR_RETURN(auto cache, KvCache::create(c, KvCacheOptions{args.sequences, rows, kv_type}));
  Forward forward(*engine.model, *cache, *engine.pool, rows);
  std::vector<int32_t> blocks(static_cast<size_t>(args.sequences));
  for (size_t s = 0; s < blocks.size(); ++s) blocks[s] = static_cast<int32_t>(s);
  const auto depth_ids = random_tokens(args.depth, c.n_vocab, 2);
  const auto ids = random_tokens(args.gen_tokens * args.sequences, c.n_vocab, 3);
  std::vector<SequenceBatch> batch(static_cast<size_t>(args.sequences));
  auto step = [&](int64_t pos, int64_t i) {
    for (size_t s = 0; s < batch.size(); ++s) {
      batch[s] = SequenceBatch{std::span<const TokenId>(&ids[static_cast<size_t>(i) * batch.size() + s], 1),
                               pos, std::span<const int32_t>(&blocks[s], 1), SequenceBatch::Logits::kLast};
    }
    return forward.eval(batch).status();
  };
  if (args.depth > 0) {
    for (size_t s = 0; s < batch.size(); ++s) {
      batch[s] =
          SequenceBatch{depth_ids, 0, std::span<const int32_t>(&blocks[s], 1), SequenceBatch::Logits::kNone};
    }
    GS_RETURN_IF_ERROR(forward.eval(batch).status());
  }
  GS_RETURN_IF_ERROR(step(args.depth, 0));  // warm-up
  std::vector<double> samples;
  for (int r = 0; r < args.repetitions; ++r) {
    const double start = now_seconds();
    for (int64_t i = 0; i < args.gen_tokens; ++i) GS_RETURN_IF_ERROR(step(args.depth + i, i));
    samples.push_back(static_cast<double>(args.gen_tokens * args.sequences) / (now_seconds() - start));
  }
  return samples;
}

Result<std::vector<Figure>> measure(const BenchArgs& args, Engine& engine) {
  Context& ctx = *engine.context;
  const int64_t vocab = engine.model->config().n_vocab;
  std::vector<Figure> figures;
  if (args.prompt_tokens > 0) {
    const auto ids = random_tokens(args.prompt_tokens, vocab, 1);
    GS_RETURN_IF_ERROR(time_prompt(ctx, ids).status());  // warm-up
    std::vector<double> samples;
    for (int r = 0; r < args.repetitions; ++r) {
      GS_ASSIGN_OR_RETURN(double tps, time_prompt(ctx, ids));
      samples.push_back(tps);
    }
    figures.push_back(summarize(fmt::format("pp{}", args.prompt_tokens), samples));
  }
  if (args.gen_tokens > 0) {
    if (args.depth > 0) {
      ctx.truncate(0);
      GS_RETURN_IF_ERROR(ctx.eval(random_tokens(args.depth, vocab, 2), false).status());
    }
    const auto ids = random_tokens(args.gen_tokens, vocab, 3);
    GS_RETURN_IF_ERROR(time_decode(ctx, args.depth, std::vector<TokenId>(ids.begin(), ids.begin() + 1))
                           .status());  // warm-up
    std::vector<double> samples;
    for (int r = 0; r < args.repetitions; ++r) {
      GS_ASSIGN_OR_RETURN(double tps, time_decode(ctx, args.depth, ids));
      samples.push_back(tps);
    }
    std::string name = fmt::format("tg{}", args.gen_tokens);
    if (args.depth > 0) name += fmt::format(" @ d{}", args.depth);
    figures.push_back(summarize(name, samples));
    if (args.sequences > 1) {
      GS_ASSIGN_OR_RETURN(auto batched, time_batched_decode(args, engine));
      figures.push_back(summarize(name + fmt::format(" x{}", args.sequences), batched));
    }
  }
  return figures;
}

void print_table(const BenchArgs& args, const Engine& engine, const std::vector<Figure>& figures,
                 double bandwidth, uint64_t weight_bytes) {
  const ModelConfig& c = engine.model->config();
  const double size_mib = static_cast<double>(engine.model->file().file_size()) / (1 << 20);
  std::printf("model: %s (%s), %.1f MiB, %d threads, simd %s\n", args.model.c_str(), c.architecture.c_str(),
              size_mib, engine.pool->size(), std::string(simd_name(active_simd())).c_str());
  if (bandwidth > 0) std::printf("read bandwidth: %.1f GB/s\n", bandwidth / 1e9);
  std::printf("| %-14s | %20s | %12s |\n", "test", "t/s", "of bandwidth");
  std::printf("| %-14s | %20s | %12s |\n", "---", "---:", "---:");
  for (const Figure& f : figures) {
    std::string share = "";
    if (bandwidth > 0 && f.test.rfind("tg", 0) == 0 && f.test.find(" x") == std::string::npos) {
      share = fmt::format("{:.0f}%", 100.0 * static_cast<double>(weight_bytes) * f.mean / bandwidth);
    }
    std::printf("| %-14s | %20s | %12s |\n", f.test.c_str(),
                fmt::format("{:.2f} ± {:.2f}", f.mean, f.stddev).c_str(), share.c_str());
  }
}

void print_json(const BenchArgs& args, const Engine& engine, const std::vector<Figure>& figures,
                double bandwidth, uint64_t weight_bytes) {
  std::printf(
      "{\"model\": \"%s\", \"file_bytes\": %zu, \"weight_bytes\": %llu, \"threads\": %d, \"simd\": \"%s\", "
      "\"read_bandwidth_bytes_per_s\": %.0f, \"results\": [",
      args.model.c_str(), engine.model->file().file_size(), static_cast<unsigned long long>(weight_bytes),
      engine.pool->size(), std::string(simd_name(active_simd())).c_str(), bandwidth);
  for (size_t i = 0; i < figures.size(); ++i) {
    const Figure& f = figures[i];
    std::printf("%s{\"test\": \"%s\", \"tokens_per_s\": %.3f, \"stddev\": %.3f, \"samples\": [%s]}",
                i ? ", " : "", f.test.c_str(), f.mean, f.stddev,
                fmt::format("{:.3f}", fmt::join(f.samples, ", ")).c_str());
  }
  std::printf("]}\n");
}

int run(const BenchArgs& args) {
  EngineArgs engine_args = args.engine;
  if (engine_args.ctx == 0) engine_args.ctx = std::max(args.prompt_tokens, args.depth + args.gen_tokens) + 16;
  auto loaded = load_engine(engine_args, args.model);
  if (!loaded.ok()) return fail(loaded.status());
  Engine& engine = *loaded;
  const double bandwidth = args.skip_bandwidth ? 0.0 : measure_read_bandwidth(*engine.pool);
  auto figures = measure(args, engine);
  if (!figures.ok()) return fail(figures.status());
  const uint64_t weight_bytes = engine.model->weight_bytes();
  if (args.json) {
    print_json(args, engine, *figures, bandwidth, weight_bytes);
  } else {
    print_table(args, engine, *figures, bandwidth, weight_bytes);
  }
  return 0;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt and decode tokens/s (like llama-bench)");
  cmd->add_option("model", args->model, "GGUF model file")->required();
  cmd->add_option("-p,--prompt-tokens", args->prompt_tokens, "prompt length for the ppN test (0: skip)")
      ->check(CLI::Range(0, 1 << 16));
  cmd->add_option("-n,--gen-tokens", args->gen_tokens, "tokens decoded for the tgN test (0: skip)")
      ->check(CLI::Range(0, 1 << 16));
  cmd->add_option("-d,--depth", args->depth, "tokens already in context before decoding")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-s,--sequences", args->sequences,
                  "also decode this many sequences together (aggregate tokens/s, as batched serving)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("-r,--repetitions", args->repetitions, "repetitions of each test")
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->add_flag("--no-bandwidth", args->skip_bandwidth, "skip the memory bandwidth probe");
  add_engine_options(*cmd, args->engine);
  return [args] { return run(*args); };
}

}  // namespace gs::cli
