// `genstack convert-tokenizer tokenizer.json [--config tokenizer_config.json]
// OUT.gguf`: a vocabulary-only GGUF from a Hugging Face tokenizer, which
// every tokenizer-only tool (and test) can load without model weights.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "gguf/gguf.h"
#include "tokenizer/hf_convert.h"
#include "tokenizer/tokenizer.h"

namespace gs::cli {
namespace {
struct ConvertArgs {
  std::string tokenizer, config, output;
  hf::ConvertOptions options;
};

// Loads what was written, so that a file the tokenizer would reject is
// reported now rather than when a model is run.
Status check_loads(const std::string& path, int32_t* vocab_size) {
  GS_ASSIGN_OR_RETURN(auto file, gguf::File::open(path));
  GS_ASSIGN_OR_RETURN(auto tokenizer, Tokenizer::from_gguf(*file));
  *vocab_size = tokenizer->vocab_size();
  return Status::Ok();
}
}  // namespace

Runner add_convert_command(CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert-tokenizer",
                                     "Write a vocabulary-only GGUF from a Hugging Face tokenizer.json");
  cmd->add_option("tokenizer", args->tokenizer, "tokenizer.json (byte-level BPE)")->required();
  cmd->add_option("output", args->output, "output GGUF")->required();
  cmd->add_option("--config", args->config,
                  "tokenizer_config.json (special tokens, add_bos_token, chat template)");
  cmd->add_option("--pre", args->options.pre, "tokenizer.ggml.pre to write instead of the detected one");
  return [args] {
    auto metadata = hf::convert_files(args->tokenizer, args->config, args->options);
    if (!metadata.ok()) return fail(metadata.status());
    Status status = hf::write_vocab_gguf(*metadata, args->output);
    if (!status.ok()) return fail(status);
    int32_t vocab_size = 0;
    status = check_loads(args->output, &vocab_size);
    if (!status.ok()) return fail(status.with_context(args->output));
    std::fprintf(stderr, "wrote %s (%d tokens)\n", args->output.c_str(), vocab_size);
    return 0;
  };
}

}  // namespace gs::cli
