// `genstack run MODEL [PROMPT]`: generate text from a prompt, streamed to stdout.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/commands.h"
#include "cli/options.h"
#include "engine/generator.h"

namespace gs::cli {
namespace {

struct RunArgs {
  std::string model;
  std::string prompt;
  bool prompt_given = false;
  int64_t max_tokens = 128;
  SamplingParams sampling;
  bool ignore_eos = false;
  bool verbose = false;
  EngineArgs engine;
};

int run(const RunArgs& args) {
  std::string prompt = args.prompt;
  if (!args.prompt_given) {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto loaded = load_engine(args.engine, args.model);
  if (!loaded.ok()) return fail(loaded.status());
  Engine& engine = *loaded;
  const Tokenizer& tokenizer = engine.model->tokenizer();
  std::vector<TokenId> ids = tokenizer.encode(prompt, tokenizer.add_bos_default());

  GenerateOptions options;
  options.max_tokens = args.max_tokens;
  options.sampling = args.sampling;
  options.ignore_eos = args.ignore_eos;
  auto stats = generate(*engine.context, tokenizer, ids, options, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  if (!stats.ok()) return fail(stats.status());
  if (args.verbose) {
    std::fprintf(stderr, "prompt: %lld tokens, %.1f tok/s; generated: %lld tokens, %.1f tok/s\n",
                 static_cast<long long>(stats->prompt_tokens), stats->prompt_tokens / stats->prompt_seconds,
                 static_cast<long long>(stats->generated_tokens),
                 stats->generated_tokens / std::max(stats->generate_seconds, 1e-9));
  }
  return 0;
}

}  // namespace

Runner add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt (read from stdin when not given)");
  cmd->add_option("model", args->model, "GGUF model file")->required();
  cmd->add_option("prompt", args->prompt, "prompt text")->each([args](const std::string&) {
    args->prompt_given = true;
  });
  cmd->add_option("-n,--max-tokens", args->max_tokens, "tokens to generate (-1: until end of text)");
  add_sampling_options(*cmd, args->sampling);
  cmd->add_flag("--ignore-eos", args->ignore_eos, "keep generating past end-of-text tokens");
  cmd->add_flag("-v,--verbose", args->verbose, "print timings to stderr");
  add_engine_options(*cmd, args->engine);
  return [args] { return run(*args); };
}

}  // namespace gs::cli
