// `genstack pull|push REF [--insecure]`, `genstack login REGISTRY -u USER
// --password-stdin`, `genstack logout REGISTRY`. Progress goes to stderr;
// the last stdout line of pull and push is the manifest digest.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "registry/auth.h"
#include "registry/progress.h"
#include "registry/registry.h"
#include "store/store.h"

namespace gs::cli {
namespace {

struct TransferArgs {
  std::string ref;
  bool insecure = false;
};

struct LoginArgs {
  std::string registry;
  std::string username;
  bool password_stdin = false;
};

// "https://index.docker.io/v1/" and "docker.io" both name Docker Hub; credentials are keyed by host.
std::string registry_host(std::string text) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (text.starts_with(scheme)) text.erase(0, scheme.size());
  }
  text = text.substr(0, text.find('/'));
  if (text == "index.docker.io" || text == "registry-1.docker.io") return std::string(store::kDockerHub);
  return text;
}

using Transfer = Result<std::string> (*)(store::Store&, const store::Reference&,
                                         const registry::TransferOptions&);

int transfer(const TransferArgs& args, Transfer run) {
  auto ref = store::parse_reference(args.ref);
  if (!ref.ok()) return fail(ref.status());
  const auto home = store::Store::default_home();
  auto store = store::Store::open(home);
  if (!store.ok()) return fail(store.status());
  registry::TransferOptions options;
  options.home = home;
  options.insecure = args.insecure;
  options.progress = registry::progress_printer(stderr, ::isatty(STDERR_FILENO) == 1);
  auto digest = run(**store, *ref, options);
  if (!digest.ok()) return fail(digest.status());
  std::printf("%s\n", digest->c_str());
  return 0;
}

Result<std::string> pull_digest(store::Store& store, const store::Reference& ref,
                                const registry::TransferOptions& options) {
  GS_ASSIGN_OR_RETURN(store::Manifest manifest, registry::pull(store, ref, options));
  return manifest.digest;
}

Runner add_transfer_command(CLI::App& app, const char* name, const char* help, Transfer run) {
  auto args = std::make_shared<TransferArgs>();
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->add_option("ref", args->ref,
                  "model reference (ai/smollm2, localhost:5000/team/m:v1, hf.co/ORG/REPO:QUANT)")
      ->required();
  cmd->add_flag("--insecure", args->insecure, "plain HTTP to the registry");
  return [args, run] { return transfer(*args, run); };
}

}  // namespace

Runner add_pull_command(CLI::App& app) {
  return add_transfer_command(app, "pull", "Download a model from a registry or Hugging Face into the store",
                              pull_digest);
}

Runner add_push_command(CLI::App& app) {
  return add_transfer_command(app, "push", "Upload a model from the store to a registry", registry::push);
}

Runner add_login_command(CLI::App& app) {
  auto args = std::make_shared<LoginArgs>();
  CLI::App* cmd = app.add_subcommand("login", "Store credentials for a registry in $GENSTACK_HOME/auth.json");
  cmd->add_option("registry", args->registry, "registry host (localhost:5000, docker.io)")->required();
  cmd->add_option("-u,--username", args->username, "user name")->required();
  cmd->add_flag("--password-stdin", args->password_stdin, "read the password from standard input")
      ->required();
  return [args] {
    std::string password;
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) return fail(Error("no password on standard input"));
    const std::string host = registry_host(args->registry);
    if (host.empty()) return fail(Error("no registry host in '{}'", args->registry));
    Status saved = registry::save_credentials(store::Store::default_home(), host, {args->username, password});
    if (!saved.ok()) return fail(saved);
    std::fprintf(stderr, "Login credentials for %s saved\n", host.c_str());
    return 0;
  };
}

Runner add_logout_command(CLI::App& app) {
  auto registry_name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("logout", "Remove stored credentials for a registry");
  cmd->add_option("registry", *registry_name, "registry host")->required();
  return [registry_name] {
    const std::string host = registry_host(*registry_name);
    auto removed = registry::remove_credentials(store::Store::default_home(), host);
    if (!removed.ok()) return fail(removed.status());
    std::fprintf(stderr, *removed ? "Removed credentials for %s\n" : "Not logged in to %s\n", host.c_str());
    return 0;
  };
}

}  // namespace gs::cli
