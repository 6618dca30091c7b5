// `genstack gguf inspect FILE`: metadata and tensor table of a GGUF file.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "gguf/gguf.h"
#include "gguf/inspect.h"

namespace gs::cli {
namespace {
struct InspectArgs {
  std::string path;
  bool json = false;
  bool no_tensors = false;
};
}  // namespace

Runner add_gguf_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* gguf = app.add_subcommand("gguf", "Work with GGUF files");
  gguf->require_subcommand(1);
  CLI::App* inspect = gguf->add_subcommand("inspect", "Print metadata and the tensor table of a GGUF file");
  inspect->add_option("file", args->path, "GGUF file")->required();
  inspect->add_flag("--json", args->json, "print JSON");
  inspect->add_flag("--no-tensors", args->no_tensors, "omit the tensor table");
  return [args] {
    auto file = gguf::File::open(args->path);
    if (!file.ok()) return fail(file.status());
    const std::string text =
        args->json ? describe_gguf_json(**file) : describe_gguf(**file, !args->no_tensors);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  };
}

}  // namespace gs::cli
