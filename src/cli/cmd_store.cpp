// The model store's commands: package, list (ls), rm, tag, inspect, df,
// prune, scan (docs/MODEL_STORE.md).
#include <cstdio>
#include <ctime>
#include <memory>

#include <boost/json.hpp>

#include "cli/commands.h"
#include "store/package.h"
#include "store/scan.h"
#include "store/store.h"

namespace gs::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using store::Reference;
using store::Store;

Result<std::unique_ptr<Store>> open_store() { return Store::open(Store::default_home()); }

std::string human_size(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.2f} {}", v, kUnits[unit]);
}

// "3 days ago" from an RFC 3339 UTC time, as `docker model ls` shows it.
std::string time_ago(const std::string& rfc3339) {
  std::tm tm{};
  if (rfc3339.empty() || !strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return "-";
  const int64_t secs = static_cast<int64_t>(std::time(nullptr) - timegm(&tm));
  static constexpr std::pair<int64_t, const char*> kSteps[] = {{365 * 86400, "year"}, {30 * 86400, "month"},
                                                               {7 * 86400, "week"},   {86400, "day"},
                                                               {3600, "hour"},        {60, "minute"}};
  for (const auto& [size, name] : kSteps) {
    if (secs >= size) return fmt::format("{} {}{} ago", secs / size, name, secs / size == 1 ? "" : "s");
  }
  return "less than a minute ago";
}

std::string short_id(const std::string& digest) { return digest.substr(7, 12); }

json::value parse_or_string(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(text) : v;
}

Result<Reference> parse_ref(const std::string& text) { return store::parse_reference(text); }

// ---- package

struct PackageArgs {
  std::vector<std::string> ggufs, licenses;
  std::string chat_template, ref;
  int64_t context_size = 0;
};

int package(const PackageArgs& args) {
  auto ref = parse_ref(args.ref);
  if (!ref.ok()) return fail(ref.status());
  if (!ref->digest.empty()) return fail(Error("package takes a tag, not a digest: {}", args.ref));
  auto s = open_store();
  if (!s.ok()) return fail(s.status());
  store::PackageInputs in;
  in.gguf_files.assign(args.ggufs.begin(), args.ggufs.end());
  in.licenses.assign(args.licenses.begin(), args.licenses.end());
  in.chat_template = args.chat_template;
  in.context_size = args.context_size;
  auto manifest = store::package_model(**s, in);
  if (!manifest.ok()) return fail(manifest.status());
  const Status tagged = (*s)->tag(*ref, *manifest);
  if (!tagged.ok()) return fail(tagged);
  std::printf("%s\n", manifest->digest.c_str());
  return 0;
}

// ---- list

int list(bool as_json) {
  auto s = open_store();
  if (!s.ok()) return fail(s.status());
  const std::vector<store::ModelEntry> models = (*s)->list();
  if (as_json) {
    json::array out;
    for (const auto& m : models) {
      const store::ConfigSummary c = store::summarize_config(m.config_json);
      out.push_back(json::object{{"id", m.manifest.digest},
                                 {"tags", json::value_from(m.tags)},
                                 {"created", c.created},
                                 {"size", m.size},
                                 {"config", parse_or_string(m.config_json)}});
    }
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  const char* kRow = "%-40s %-10s %-12s %-12s %-12s %-16s %s\n";
  std::printf(kRow, "MODEL NAME", "PARAMETERS", "QUANTIZATION", "ARCHITECTURE", "MODEL ID", "CREATED",
              "SIZE");
  for (const auto& m : models) {
    const store::ConfigSummary c = store::summarize_config(m.config_json);
    for (const std::string& tag : m.tags) {
      std::printf(kRow, tag.c_str(), c.parameters.c_str(), c.quantization.c_str(), c.architecture.c_str(),
                  short_id(m.manifest.digest).c_str(), time_ago(c.created).c_str(),
                  human_size(m.size).c_str());
    }
  }
  return 0;
}

// ---- rm, tag, inspect

int remove(const std::vector<std::string>& refs) {
  auto s = open_store();
  if (!s.ok()) return fail(s.status());
  for (const std::string& text : refs) {
    auto ref = parse_ref(text);
    if (!ref.ok()) return fail(ref.status());
    const Status removed = (*s)->remove(*ref);
    if (!removed.ok()) return fail(removed);
    std::printf("removed %s\n", ref->display().c_str());
  }
  return 0;
}

int tag(const std::string& source, const std::string& target) {
  auto from = parse_ref(source);
  if (!from.ok()) return fail(from.status());
  auto to = parse_ref(target);
  if (!to.ok()) return fail(to.status());
  if (!to->digest.empty()) return fail(Error("the target of tag is a tag, not a digest: {}", target));
  auto s = open_store();
  if (!s.ok()) return fail(s.status());
  auto entry = (*s)->get(*from);
  if (!entry.ok()) return fail(entry.status());
  const Status tagged = (*s)->tag(*to, entry->manifest);
  if (!tagged.ok()) return fail(tagged);
  std::printf("tagged %s as %s\n", from->display().c_str(), to->display().c_str());
  return 0;
}

int inspect(const std::string& text) {
  auto ref = parse_ref(text);
  if (!ref.ok()) return fail(ref.status());
  auto s = open_store();
  if (!s.ok()) return fail(s.status());
  auto entry = (*s)->get(*ref);
  if (!entry.ok()) return fail(entry.status());
  auto gguf = (*s)->gguf_path(*ref);
  if (!gguf.ok()) return fail(gguf.status());
  const json::object out{{"id", entry->manifest.digest},
                         {"tags", json::value_from(entry->tags)},
                         {"manifest", parse_or_string(entry->manifest.raw)},
                         {"config", parse_or_string(entry->config_json)},
                         {"gguf", gguf->string()},
                         {"size", entry->size}};
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}

// ---- df, prune

int disk_free() {
  auto s = open_store();
  if (!s.ok()) return fail(s.status());
  auto usage = (*s)->disk_usage();
  if (!usage.ok()) return fail(usage.status());
  const char* kRow = "%-22s %-8s %-12s %s\n";
  std::printf(kRow, "TYPE", "COUNT", "SIZE", "RECLAIMABLE");
  std::printf(kRow, "Models", std::to_string((*s)->list().size()).c_str(),
              human_size(usage->blob_bytes - usage->unreferenced_bytes).c_str(), human_size(0).c_str());
  std::printf(kRow, "Unreferenced blobs", std::to_string(usage->unreferenced_blobs).c_str(),
              human_size(usage->unreferenced_bytes).c_str(), human_size(usage->unreferenced_bytes).c_str());
  std::printf(kRow, "Partial downloads", "-", human_size(usage->partial_bytes).c_str(),
              human_size(usage->partial_bytes).c_str());
  std::printf("store: %s\n", (Store::default_home() / "models").string().c_str());
  return 0;
}

int prune() {
  auto s = open_store();
  if (!s.ok()) return fail(s.status());
  auto freed = (*s)->prune();
  if (!freed.ok()) return fail(freed.status());
  std::printf("deleted %llu unreferenced blobs (%s) and %s of interrupted downloads\n",
              static_cast<unsigned long long>(freed->unreferenced_blobs),
              human_size(freed->unreferenced_bytes).c_str(), human_size(freed->partial_bytes).c_str());
  std::printf("total reclaimed space: %s\n", human_size(freed->blob_bytes).c_str());
  return 0;
}

// ---- scan

int scan(const std::string& target) {
  Result<store::ScanReport> report = Error("unreachable");
  std::error_code ec;
  if (fs::is_regular_file(target, ec)) {
    report = store::scan_gguf_file(target);
  } else {
    auto ref = parse_ref(target);
    if (!ref.ok()) return fail(Error("{} is neither a file nor a valid reference: {}", target, ref.error()));
    auto s = open_store();
    if (!s.ok()) return fail(s.status());
    report = store::scan_stored_model(**s, *ref);
  }
  if (!report.ok()) return fail(report.status());
  for (const std::string& line : report->info) std::printf("%s\n", line.c_str());
  for (const std::string& w : report->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::printf("%s\n", report->warnings.empty() ? "no problems found" : "usable, with warnings (see stderr)");
  return 0;
}

}  // namespace

Runner add_package_command(CLI::App& app) {
  auto args = std::make_shared<PackageArgs>();
  CLI::App* cmd = app.add_subcommand("package", "Package GGUF files as a model artifact in the local store");
  cmd->add_option("--gguf", args->ggufs, "GGUF file (repeat for the shards of a split model, in order)")
      ->required();
  cmd->add_option("--license", args->licenses, "licence file (repeatable)");
  cmd->add_option("--chat-template", args->chat_template, "Jinja chat template file");
  cmd->add_option("--context-size", args->context_size, "context size to record in the config");
  cmd->add_option("reference", args->ref, "tag for the model, e.g. ai/mymodel:v1")->required();
  return [args] { return package(*args); };
}

Runner add_list_command(CLI::App& app) {
  auto as_json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("list", "List the models in the local store")->alias("ls");
  cmd->add_flag("--json", *as_json, "JSON output");
  return [as_json] { return list(*as_json); };
}

Runner add_rm_command(CLI::App& app) {
  auto refs = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("rm", "Remove models (tags) from the local store");
  cmd->add_option("references", *refs, "models to remove")->required();
  return [refs] { return remove(*refs); };
}

Runner add_tag_command(CLI::App& app) {
  auto names = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* cmd = app.add_subcommand("tag", "Give a stored model another name");
  cmd->add_option("source", names->first, "existing model")->required();
  cmd->add_option("target", names->second, "new name")->required();
  return [names] { return tag(names->first, names->second); };
}

Runner add_inspect_command(CLI::App& app) {
  auto ref = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a stored model's manifest and config as JSON");
  cmd->add_option("reference", *ref, "model")->required();
  return [ref] { return inspect(*ref); };
}

Runner add_df_command(CLI::App& app) {
  app.add_subcommand("df", "Show the local store's disk usage");
  return [] { return disk_free(); };
}

Runner add_prune_command(CLI::App& app) {
  app.add_subcommand("prune", "Delete unreferenced blobs and abandoned downloads from the local store");
  return [] { return prune(); };
}

Runner add_scan_command(CLI::App& app) {
  auto target = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "scan", "Check a GGUF file or stored model: structure, digests, licence, provenance, warnings");
  cmd->add_option("model", *target, "GGUF file or store reference")->required();
  return [target] { return scan(*target); };
}

}  // namespace gs::cli
