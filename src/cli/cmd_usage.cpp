// `genstack usage`: what each key used through the gateway, per model,
// upstream and day (docs/GATEWAY.md).
#include <cstdio>
#include <memory>
#include <string_view>

#include "cli/commands.h"
#include "gateway/config.h"
#include "gateway/key_store.h"
#include "gateway/usage.h"

namespace gs::cli {
namespace {

// YYYY-MM-DD (digits in the right places; the day's validity is SQLite's business).
bool is_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

struct UsageArgs {
  std::string db;
  std::string config;
  std::string since;
  bool json = false;
};

Result<std::string> database_path(const UsageArgs& args) {
  if (!args.db.empty()) return gateway::usage_db_path(args.db);
  if (!args.config.empty()) {
    GS_ASSIGN_OR_RETURN(gateway::Config config, gateway::load_config(args.config));
    return gateway::usage_db_path(config.keys_db);
  }
  return gateway::genstack_home() + "/gateway.db";
}

void print_table(const std::vector<gateway::UsageRow>& rows) {
  std::printf("%-10s %-6s %-14s %-20s %-12s %9s %10s %10s %7s %10s\n", "DAY", "KEY", "NAME", "MODEL",
              "UPSTREAM", "REQUESTS", "PROMPT", "COMPLETION", "ERRORS", "AVG_MS");
  for (const gateway::UsageRow& r : rows) {
    const double avg_ms = r.requests ? 1000 * r.latency_s / static_cast<double>(r.requests) : 0;
    std::printf("%-10s %-6lld %-14s %-20s %-12s %9lld %10lld %10lld %7lld %10.1f\n", r.day.c_str(),
                static_cast<long long>(r.key_id), r.key_name.c_str(), r.model.c_str(), r.upstream.c_str(),
                static_cast<long long>(r.requests), static_cast<long long>(r.prompt_tokens),
                static_cast<long long>(r.completion_tokens), static_cast<long long>(r.errors), avg_ms);
  }
}

int report(const UsageArgs& args) {
  if (!args.since.empty() && !is_iso_date(args.since)) {
    return fail(Error("--since: '{}' is not YYYY-MM-DD", args.since));
  }
  auto path = database_path(args);
  if (!path.ok()) return fail(path.status());
  // Opening the key store first creates the key table the report joins.
  auto keys = gateway::SqliteKeyStore::open(*path);
  if (!keys.ok()) return fail(keys.status());
  auto store = gateway::UsageStore::open(*path);
  if (!store.ok()) return fail(store.status());
  auto rows = (*store)->report(args.since);
  if (!rows.ok()) return fail(rows.status());
  if (args.json) {
    std::printf("%s\n", gateway::usage_json(*rows).c_str());
  } else {
    print_table(*rows);
  }
  return 0;
}

}  // namespace

Runner add_usage_command(CLI::App& app) {
  auto args = std::make_shared<UsageArgs>();
  CLI::App* cmd = app.add_subcommand("usage", "Report the gateway's usage per key, model, upstream and day");
  cmd->add_option("--db", args->db, "Gateway database (default: $GENSTACK_HOME/gateway.db)");
  cmd->add_option("--config", args->config, "Take the database from this gateway config");
  cmd->add_option("--since", args->since, "First day to report (YYYY-MM-DD, UTC)");
  cmd->add_flag("--json", args->json, "Print a JSON array instead of a table");
  return [args] { return report(*args); };
}

}  // namespace gs::cli
