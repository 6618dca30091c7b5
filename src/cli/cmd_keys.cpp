// `genstack keys create|list|revoke`: the gateway's API keys.
#include <cstdio>
#include <ctime>
#include <memory>

#include "cli/commands.h"
#include "gateway/config.h"
#include "gateway/key_store.h"

namespace gs::cli {
namespace {

struct KeysArgs {
  std::string db;
  std::string config;
  std::string tier;
  std::string name;
  int64_t id = 0;
};

// The database (a SQLite path or a postgresql:// URI): --db, else the one the
// gateway config names, else $GENSTACK_HOME/gateway.db.
Result<std::unique_ptr<gateway::KeyStore>> open_store(const KeysArgs& args) {
  std::string path = args.db;
  if (path.empty() && !args.config.empty()) {
    GS_ASSIGN_OR_RETURN(gateway::Config config, gateway::load_config(args.config));
    path = config.keys_db;
  }
  if (path.empty()) path = gateway::genstack_home() + "/gateway.db";
  return gateway::open_key_store(path);
}

int create(const KeysArgs& args) {
  auto store = open_store(args);
  if (!store.ok()) return fail(store.status());
  auto key = (*store)->create(args.tier, args.name);
  if (!key.ok()) return fail(key.status());
  std::fprintf(stderr, "created key %lld (tier %s); it is shown only this once:\n",
               static_cast<long long>(key->record.id), args.tier.c_str());
  std::printf("%s\n", key->secret.c_str());
  return 0;
}

int list(const KeysArgs& args) {
  auto store = open_store(args);
  if (!store.ok()) return fail(store.status());
  auto keys = (*store)->list();
  if (!keys.ok()) return fail(keys.status());
  std::printf("%-6s %-16s %-12s %-14s %-20s %s\n", "ID", "NAME", "TIER", "PREFIX", "CREATED", "STATUS");
  for (const gateway::KeyRecord& k : *keys) {
    char created[32];
    const std::time_t t = k.created_at;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::printf("%-6lld %-16s %-12s %-14s %-20s %s\n", static_cast<long long>(k.id), k.name.c_str(),
                k.tier.c_str(), (k.prefix + "...").c_str(), created, k.revoked ? "revoked" : "active");
  }
  return 0;
}

int revoke(const KeysArgs& args) {
  auto store = open_store(args);
  if (!store.ok()) return fail(store.status());
  const Status status = (*store)->revoke(args.id);
  if (!status.ok()) return fail(status);
  std::printf("revoked key %lld\n", static_cast<long long>(args.id));
  return 0;
}

}  // namespace

Runner add_keys_command(CLI::App& app) {
  auto args = std::make_shared<KeysArgs>();
  CLI::App* cmd = app.add_subcommand("keys", "Create, list and revoke the gateway's API keys");
  cmd->require_subcommand(1);
  cmd->add_option("--db", args->db, "Key database: a SQLite path or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB"
                 " (default: $GENSTACK_HOME/gateway.db)");
  cmd->add_option("--config", args->config, "Take the key database from this gateway config");
  CLI::App* create_cmd = cmd->add_subcommand("create", "Create a key and print it (shown only once)");
  create_cmd->add_option("--tier", args->tier, "The key's tier (from the gateway config)")->required();
  create_cmd->add_option("--name", args->name, "A name to recognise the key by");
  CLI::App* list_cmd = cmd->add_subcommand("list", "List keys (never the keys themselves)");
  CLI::App* revoke_cmd = cmd->add_subcommand("revoke", "Revoke a key: requests with it get 401 at once");
  revoke_cmd->add_option("id", args->id, "The key's id (from keys list)")->required();
  return [args, create_cmd, list_cmd, revoke_cmd] {
    if (create_cmd->parsed()) return create(*args);
    if (list_cmd->parsed()) return list(*args);
    if (revoke_cmd->parsed()) return revoke(*args);
    return 0;
  };
}

}  // namespace gs::cli
