// `genstack quantize IN.gguf OUT.gguf TYPE`: convert a model's weight matrices.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "quantize/quantize.h"

namespace gs::cli {
namespace {
struct QuantizeArgs {
  std::string input, output;
  QuantizeOptions options;
};
}  // namespace

Runner add_quantize_command(CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Write a copy of a model with its weights in another type");
  cmd->add_option("input", args->input, "input GGUF (f32, f16 or bf16; quantized with --allow-requantize)")
      ->required();
  cmd->add_option("output", args->output, "output GGUF")->required();
  cmd->add_option("type", args->options.target, "q8_0, q4_0, q4_1, q5_0, q5_1, q2_K..q6_K, q4_K_M, f16, bf16")
      ->required();
  cmd->add_flag("--allow-requantize", args->options.allow_requantize, "accept already quantized input");
  cmd->add_option("-t,--threads", args->options.n_threads, "threads (default: one per physical core)");
  return [args] {
    Status status = quantize_file(args->input, args->output, args->options);
    if (!status.ok()) return fail(status);
    std::fprintf(stderr, "wrote %s\n", args->output.c_str());
    return 0;
  };
}

}  // namespace gs::cli
