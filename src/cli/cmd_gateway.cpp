// `genstack gateway --config gateway.yaml`: the API gateway (docs/GATEWAY.md).
#include <memory>

#include "cli/commands.h"
#include "gateway/gateway.h"

namespace gs::cli {

Runner add_gateway_command(CLI::App& app) {
  auto config_path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "gateway", "API gateway: keys, tiers, rate limits, routing and failover in front of model servers");
  cmd->add_option("-c,--config", *config_path, "Gateway configuration (YAML, see docs/GATEWAY.md)")
      ->required();
  return [config_path] {
    auto config = gateway::load_config(*config_path);
    if (!config.ok()) return fail(config.status());
    const Status status = gateway::run_gateway(*config);
    return status.ok() ? 0 : fail(status);
  };
}

}  // namespace gs::cli
