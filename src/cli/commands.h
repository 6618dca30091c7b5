// Sub-commands of the `genstack` binary. Each registers its options on the
// CLI11 app and returns the process exit code when run.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace gs::cli {

// A registered sub-command: `run` is called when the user picked it.
using Runner = std::function<int()>;

Runner add_run_command(CLI::App& app);
Runner add_pull_command(CLI::App& app);
Runner add_push_command(CLI::App& app);
Runner add_login_command(CLI::App& app);
Runner add_logout_command(CLI::App& app);
Runner add_bench_command(CLI::App& app);
Runner add_gguf_command(CLI::App& app);
Runner add_quantize_command(CLI::App& app);
Runner add_convert_command(CLI::App& app);
Runner add_serve_command(CLI::App& app);
// The model store (cmd_store.cpp).
Runner add_package_command(CLI::App& app);
Runner add_list_command(CLI::App& app);
Runner add_rm_command(CLI::App& app);
Runner add_tag_command(CLI::App& app);
Runner add_inspect_command(CLI::App& app);
Runner add_df_command(CLI::App& app);
Runner add_prune_command(CLI::App& app);
Runner add_scan_command(CLI::App& app);
// The gateway (cmd_gateway.cpp, cmd_keys.cpp, cmd_usage.cpp).
Runner add_gateway_command(CLI::App& app);
Runner add_up_command(CLI::App& app);  // cmd_up.cpp: genstack up stack.yaml
Runner add_keys_command(CLI::App& app);
Runner add_usage_command(CLI::App& app);

// Prints "genstack: error: <message>" on one line to stderr; returns 1.
int fail(const Status& status);

}  // namespace gs::cli
