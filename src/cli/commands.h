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
Runner add_bench_command(CLI::App& app);
Runner add_gguf_command(CLI::App& app);
Runner add_quantize_command(CLI::App& app);
Runner add_convert_command(CLI::App& app);
Runner add_serve_command(CLI::App& app);
Runner add_gateway_command(CLI::App& app);
Runner add_keys_command(CLI::App& app);
Runner add_usage_command(CLI::App& app);

// Prints "genstack: error: <message>" on one line to stderr; returns 1.
int fail(const Status& status);

}  // namespace gs::cli
