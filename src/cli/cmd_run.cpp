// `genstack run MODEL [PROMPT]`: generate text from a prompt, streamed to stdout.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>

#include <unistd.h>

#include <filesystem>

#include "cli/chat.h"
#include "cli/commands.h"
#include "cli/model_ref.h"
#include "cli/options.h"
#include "engine/generator.h"
#include "server/model_manager.h"

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
  bool local = false;
  std::string server;
  EngineArgs engine;
};

GenerationArgs generation_args(const RunArgs& args) {
  return {args.max_tokens, args.sampling, args.ignore_eos};
}

// A server is up and serves this model (by id, or a file's stem)?
std::optional<RemoteModel> find_server(const RunArgs& args) {
  if (args.local) return std::nullopt;
  std::string url = args.server;
  if (url.empty()) {
    const char* env = std::getenv("GENSTACK_HOST");
    url = env ? env : "http://127.0.0.1:11434";
  }
  auto endpoint = parse_base_url(url);
  if (!endpoint.ok()) return std::nullopt;
  RemoteModel remote{*endpoint, "", model_display_id(args.model)};
  if (const char* key = std::getenv("GENSTACK_API_KEY")) remote.api_key = key;
  auto probe =
      http_get(remote.endpoint, "/v1/models/" + remote.id, remote.api_key, std::chrono::milliseconds(300));
  if (!probe.ok() || probe->status != 200) return std::nullopt;
  return remote;
}

int run(const RunArgs& args) {
  const bool interactive = !args.prompt_given && isatty(STDIN_FILENO);
  if (auto remote = find_server(args)) {
    if (args.verbose)
      std::fprintf(stderr, "using the server at %s:%s\n", remote->endpoint.host.c_str(),
                   remote->endpoint.port.c_str());
    std::string prompt = args.prompt;
    if (interactive) {
      const Status status = remote_chat(*remote, generation_args(args));
      return status.ok() ? 0 : fail(status);
    }
    if (!args.prompt_given)
      prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    const Status status = remote_complete(*remote, prompt, generation_args(args));
    return status.ok() ? 0 : fail(status);
  }
  auto model_path = resolve_model(args.model, true);
  if (!model_path.ok()) return fail(model_path.status());
  if (interactive) {
    auto loaded = load_engine(args.engine, model_path->string());
    if (!loaded.ok()) return fail(loaded.status());
    const Status status = local_chat(*loaded, generation_args(args));
    return status.ok() ? 0 : fail(status);
  }
  std::string prompt = args.prompt;
  if (!args.prompt_given) {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto loaded = load_engine(args.engine, model_path->string());
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
  CLI::App* cmd = app.add_subcommand("run",
                                     "Generate text from a prompt (stdin when piped; interactive chat on a "
                                     "terminal); uses a running server when one serves the model");
  cmd->add_option(
         "model", args->model,
         "GGUF model file, a store reference (ai/smollm2), or the id of a model a running server serves")
      ->required();
  cmd->add_option("prompt", args->prompt, "prompt text")->each([args](const std::string&) {
    args->prompt_given = true;
  });
  cmd->add_option("-n,--max-tokens", args->max_tokens, "tokens to generate (-1: until end of text)");
  add_sampling_options(*cmd, args->sampling);
  cmd->add_flag("--ignore-eos", args->ignore_eos, "keep generating past end-of-text tokens");
  cmd->add_flag("-v,--verbose", args->verbose, "print timings to stderr");
  cmd->add_flag("--local", args->local, "run in this process even when a server serves the model");
  cmd->add_option(
      "--server", args->server,
      "server to use when it serves the model (default $GENSTACK_HOST or http://127.0.0.1:11434)");
  add_engine_options(*cmd, args->engine);
  return [args] { return run(*args); };
}

}  // namespace gs::cli
