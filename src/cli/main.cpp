// genstack: the self-hosted GenAI stack in one binary.
#include <csignal>
#include <cstdio>
#include <vector>

#include "cli/commands.h"

namespace gs::cli {
int fail(const Status& status) {
  std::string line = status.message();
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';  // one readable line, always
  }
  std::fprintf(stderr, "genstack: error: %s\n", line.c_str());
  return 1;
}
}  // namespace gs::cli

int main(int argc, char** argv) {
  // A write past the file-size limit (RLIMIT_FSIZE) then fails with EFBIG and
  // a one-line error instead of killing the process mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"genstack: run, serve and manage GGUF language models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "genstack 0.1.0");
  std::vector<std::pair<CLI::App*, gs::cli::Runner>> commands;
  auto add = [&](gs::cli::Runner (*adder)(CLI::App&)) {
    const size_t before = app.get_subcommands({}).size();
    gs::cli::Runner runner = adder(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(runner));
  };
  add(gs::cli::add_run_command);
  add(gs::cli::add_pull_command);
  add(gs::cli::add_push_command);
  add(gs::cli::add_login_command);
  add(gs::cli::add_logout_command);
  add(gs::cli::add_bench_command);
  add(gs::cli::add_gguf_command);
  add(gs::cli::add_quantize_command);
  add(gs::cli::add_convert_command);
  add(gs::cli::add_serve_command);
  add(gs::cli::add_package_command);
  add(gs::cli::add_list_command);
  add(gs::cli::add_rm_command);
  add(gs::cli::add_tag_command);
  add(gs::cli::add_inspect_command);
  add(gs::cli::add_df_command);
  add(gs::cli::add_prune_command);
  add(gs::cli::add_scan_command);
  add(gs::cli::add_gateway_command);
  add(gs::cli::add_up_command);
  add(gs::cli::add_keys_command);
  add(gs::cli::add_usage_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& [command, runner] : commands) {
    if (command->parsed()) return runner();
  }
  return 0;
}
