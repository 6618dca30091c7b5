// `genstack serve MODEL...`: the OpenAI- and Ollama-compatible server.
#include <cstdlib>

#include <boost/json/value.hpp>
#include <memory>

#include "cli/commands.h"
#include "cli/model_ref.h"
#include "cli/options.h"
#include "server/generation_params.h"
#include "server/serve.h"

namespace gs::cli {
namespace {

struct ServeArgs {
  std::vector<std::string> models;
  server::ServeOptions options;
  int64_t ctx = 0;
  std::string kv_type = "f16";
  std::string keep_alive = "5m";
  double max_memory_gib = 0;
};

int serve(ServeArgs& args) {
  server::ServeOptions& o = args.options;
  for (const std::string& m : args.models) {
    const size_t eq = m.find('=');
    const bool named = eq != std::string::npos && eq > 0;
    const std::string model = named ? m.substr(eq + 1) : m;
    auto path = resolve_model(model, false);
    if (!path.ok()) return fail(path.status());
    o.models.push_back({named ? m.substr(0, eq) : model_display_id(model), path->string()});
  }
  auto kv = parse_kv_type(args.kv_type);
  if (!kv.ok()) return fail(kv.status());
  o.manager.scheduler.kv_type = *kv;
  o.manager.scheduler.n_ctx = args.ctx;
  const auto keep = server::parse_keep_alive(boost::json::value(args.keep_alive));
  if (!keep)
    return fail(Error("--keep-alive '{}' is not a duration (use e.g. 30s, 5m, 1h, -1)", args.keep_alive));
  o.manager.keep_alive = *keep;
  o.manager.max_memory = static_cast<uint64_t>(args.max_memory_gib * (1ull << 30));
  if (o.api_key.empty()) {
    if (const char* key = std::getenv("GENSTACK_API_KEY")) o.api_key = key;
  }
  const Status status = server::serve(o);
  return status.ok() ? 0 : fail(status);
}

}  // namespace

Runner add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve models over OpenAI- and Ollama-compatible HTTP APIs");
  cmd->add_option("models", args->models,
                  "GGUF files or store references to serve (id = file name without .gguf, or the reference "
                  "as ai/smollm2:latest; or ID=MODEL)")
      ->required();
  server::ServeOptions& o = args->options;
  auto& s = o.manager.scheduler;
  cmd->add_option("--host", o.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o.port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("--api-key", o.api_key, "Require 'Authorization: Bearer KEY' (also GENSTACK_API_KEY)");
  cmd->add_flag("--insecure-public", o.insecure_public, "Allow a non-loopback --host without an API key");
  auto* tls_cert =
      cmd->add_option("--tls-cert", o.tls_cert_file, "Serve HTTPS with this PEM certificate (chain)")
          ->check(CLI::ExistingFile);
  auto* tls_key = cmd->add_option("--tls-key", o.tls_key_file, "The PEM private key for --tls-cert")
                      ->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  cmd->add_option("-c,--ctx", args->ctx, "Context per sequence (0: the model's, capped at 4096)")
      ->capture_default_str();
  cmd->add_option("--parallel,--np", s.max_parallel, "Sequences decoded together")->capture_default_str();
  cmd->add_option("--kv-tokens", s.kv_tokens,
                  "Positions in the shared KV cache (0: ctx x parallel, up to 32768)")
      ->capture_default_str();
  cmd->add_option("--kv-type", args->kv_type, "KV cache type: f16, q8_0 or f32")->capture_default_str();
  cmd->add_option("--batch", s.max_batch_tokens, "Tokens per forward pass (decode + prompt chunks)")
      ->capture_default_str();
  cmd->add_option("--max-queue", s.max_queue, "Queued requests per model before answering 429")
      ->capture_default_str();
  cmd->add_option("--keep-alive", args->keep_alive, "Unload a model after this long idle (-1: never)")
      ->capture_default_str();
  cmd->add_option("--max-memory", args->max_memory_gib,
                  "GiB for loaded models; least recently used unload first")
      ->capture_default_str();
  cmd->add_option("--max-body", o.max_body_bytes, "Largest request body in bytes")->capture_default_str();
  cmd->add_option("-t,--threads", o.threads, "Compute threads (0: one per physical core)")
      ->capture_default_str();
  return [args] { return serve(*args); };
}

}  // namespace gs::cli
