// `genstack up stack.yaml`: a gateway and autoscaled local `genstack serve`
// replicas per model (docs/GATEWAY.md, "genstack up").
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "gateway/stack.h"

namespace gs::cli {

Runner add_up_command(CLI::App& app) {
  auto stack_path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "up", "Gateway plus local genstack serve replicas per model, scaled with the load (stack.yaml)");
  cmd->add_option("stack", *stack_path, "Stack file (YAML, see docs/GATEWAY.md)")->required();
  return [stack_path] {
    auto stack = gateway::load_stack(*stack_path);
    if (!stack.ok()) return fail(stack.status());
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return fail(Error("cannot find the genstack binary: {}", ec.message()));
    const Status status = gateway::run_stack(*stack, self.string());
    return status.ok() ? 0 : fail(status);
  };
}

}  // namespace gs::cli
