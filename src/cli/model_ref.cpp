#include "cli/model_ref.h"

#include <unistd.h>

#include <fmt/format.h>

#include "registry/progress.h"
#include "registry/registry.h"
#include "server/model_manager.h"
#include "store/reference.h"
#include "store/store.h"

namespace gs::cli {
namespace fs = std::filesystem;

namespace {

// A path the user meant as a file, not a reference ("./m.gguf", "/x", "m.gguf").
bool looks_like_path(std::string_view arg) {
  return arg.rfind("/", 0) == 0 || arg.rfind("./", 0) == 0 || arg.rfind("../", 0) == 0 ||
         (arg.size() > 5 && arg.substr(arg.size() - 5) == ".gguf");
}

// `run` has no --insecure: like Docker, registries on the loopback interface
// are reached over plain HTTP; every other one over HTTPS.
bool loopback_registry(std::string_view host) {
  host = host.substr(0, host.rfind(':') == std::string_view::npos ? host.size() : host.rfind(':'));
  return host == "localhost" || host.starts_with("127.") || host == "[::1]";
}

}  // namespace

Result<fs::path> resolve_model(std::string_view arg, bool pull_if_missing) {
  std::error_code ec;
  if (fs::is_regular_file(fs::path(arg), ec)) return fs::path(arg);
  if (looks_like_path(arg)) return Error("no model file '{}'", arg);
  GS_ASSIGN_OR_RETURN(store::Reference ref, store::parse_reference(arg));
  GS_ASSIGN_OR_RETURN(auto model_store, store::Store::open(store::Store::default_home()));
  auto path = model_store->gguf_path(ref);
  if (path.ok()) return path;
  if (path.error().find("not found in the store") == std::string::npos) return path.status();
  if (!pull_if_missing) return Error("model {} not found locally; run genstack pull {}", ref.display(), arg);
  registry::TransferOptions options;
  options.home = store::Store::default_home();
  options.insecure = loopback_registry(ref.registry);
  options.progress = registry::progress_printer(stderr, ::isatty(STDERR_FILENO) == 1);
  GS_RETURN_IF_ERROR(registry::pull(*model_store, ref, options)
                         .status()
                         .with_context(fmt::format("model {} is not in the local store and pulling it failed",
                                                   ref.display())));
  return model_store->gguf_path(ref);
}

std::string model_display_id(std::string_view arg) {
  std::error_code ec;
  if (fs::exists(fs::path(arg), ec) || looks_like_path(arg))
    return server::model_id_from_path(std::string(arg));
  auto ref = store::parse_reference(arg);
  return ref.ok() ? ref->display() : server::model_id_from_path(std::string(arg));
}

}  // namespace gs::cli
