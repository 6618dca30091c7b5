// The reference side of the store: index.json (an OCI image-layout index
// whose entries carry the reference name), tags, removal by reference count,
// disk usage and prune.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

#include <boost/json.hpp>

#include "store/digest.h"
#include "store/fs_util.h"
#include "store/store.h"

namespace gs::store {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view kRefAnnotation = "org.opencontainers.image.ref.name";
constexpr auto kStaleTemp = std::chrono::hours(1);

struct IndexEntry {
  std::string name;  // canonical reference
  std::string digest;
  std::string media_type;
  uint64_t size = 0;
};
using Index = std::vector<IndexEntry>;

Result<IndexEntry> parse_index_entry(const json::value& m) {
  const json::object* o = m.if_object();
  const json::value* ann = o ? o->if_contains("annotations") : nullptr;
  const json::value* name = ann && ann->is_object() ? ann->as_object().if_contains(kRefAnnotation) : nullptr;
  if (!name || !name->is_string()) return Error("entry without a reference name");
  IndexEntry e{std::string(name->as_string()), json::value_to<std::string>(o->at("digest")),
               json::value_to<std::string>(o->at("mediaType")), json::value_to<uint64_t>(o->at("size"))};
  GS_RETURN_IF_ERROR(check_digest(e.digest));
  return e;
}

Result<Index> parse_index(std::string_view text) {
  try {
    json::value v = json::parse(text);
    const json::value* manifests = v.is_object() ? v.as_object().if_contains("manifests") : nullptr;
    if (!manifests || !manifests->is_array()) return Error("'manifests' missing");
    Index entries;
    for (const json::value& m : manifests->as_array()) {
      GS_ASSIGN_OR_RETURN(IndexEntry e, parse_index_entry(m));
      entries.push_back(std::move(e));
    }
    return entries;
  } catch (const std::exception& e) {
    return Error("{}", e.what());
  }
}

Result<Index> load_index(const fs::path& root) {
  const fs::path path = root / "index.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return Index{};  // a fresh store
  std::stringstream text;
  text << in.rdbuf();
  auto index = parse_index(text.str());
  if (!index.ok()) return index.status().with_context("corrupt store index " + path.string());
  return index;
}

Status save_index(const fs::path& root, Index entries) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  json::array manifests;
  for (const IndexEntry& e : entries) {
    manifests.push_back(json::object{{"mediaType", e.media_type},
                                     {"digest", e.digest},
                                     {"size", e.size},
                                     {"annotations", json::object{{kRefAnnotation, e.name}}}});
  }
  const json::object index{{"schemaVersion", 2}, {"manifests", std::move(manifests)}};
  return internal::write_file_atomic(root / "index.json", json::serialize(index) + "\n");
}

Result<Manifest> load_manifest(const Store& store, std::string_view digest) {
  GS_ASSIGN_OR_RETURN(std::string raw, store.read_blob(digest));
  GS_ASSIGN_OR_RETURN(Manifest m, parse_manifest(std::move(raw)));
  if (m.digest != digest) return Error("manifest blob {} does not match its digest", digest);
  return m;
}

void add_blobs_of(const Manifest& m, std::set<std::string>& out) {
  out.insert(m.digest);
  out.insert(m.config.digest);
  for (const Descriptor& d : m.layers) out.insert(d.digest);
}

// Every blob a model in `index` uses. An unreadable manifest is an error:
// better to keep everything than to delete what a model needs.
Result<std::set<std::string>> referenced_blobs(const Store& store, const Index& index) {
  std::set<std::string> out;
  for (const IndexEntry& e : index) {
    if (out.count(e.digest)) continue;
    auto m = load_manifest(store, e.digest);
    if (!m.ok()) return m.status().with_context(e.name);
    add_blobs_of(*m, out);
  }
  return out;
}

std::string display_name(const std::string& canonical) {
  auto ref = parse_reference(canonical);
  return ref.ok() ? ref->display() : canonical;
}

bool older_than(const fs::path& p, std::chrono::hours age) {
  std::error_code ec;
  const auto t = fs::last_write_time(p, ec);
  return !ec && fs::file_time_type::clock::now() - t > age;
}

bool is_temp(const fs::path& p) { return p.filename().string().rfind(internal::kTempPrefix, 0) == 0; }

bool matches(const IndexEntry& e, const Reference& ref) {
  return ref.digest.empty() ? e.name == ref.canonical() : e.digest == ref.digest;
}

}  // namespace

Status Store::tag(const Reference& ref, const Manifest& manifest) {
  if (!ref.digest.empty() && ref.digest != manifest.digest)
    return Error("{} names digest {}, but the manifest is {}", ref.display(), ref.digest, manifest.digest);
  for (const Descriptor* d : {&manifest.config}) {
    if (!has_blob(d->digest)) return Error("config blob {} is not in the store", d->digest);
  }
  for (const Descriptor& d : manifest.layers) {
    if (!has_blob(d.digest)) return Error("layer {} is not in the store", d.digest);
  }
  GS_ASSIGN_OR_RETURN(std::string digest, put_blob(manifest.raw));
  if (digest != manifest.digest) return Error("manifest digest mismatch ({} != {})", digest, manifest.digest);
  GS_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(root_ / "lock"));
  GS_ASSIGN_OR_RETURN(Index index, load_index(root_));
  const std::string name = ref.canonical();
  std::erase_if(index, [&](const IndexEntry& e) { return e.name == name; });
  index.push_back({name, manifest.digest, manifest.media_type, manifest.raw.size()});
  return save_index(root_, std::move(index));
}

Result<ModelEntry> Store::get(const Reference& ref) const {
  GS_ASSIGN_OR_RETURN(Index index, load_index(root_));
  auto it = std::find_if(index.begin(), index.end(), [&](const IndexEntry& e) { return matches(e, ref); });
  if (it == index.end()) return Error("model {} not found in the store", ref.display());
  ModelEntry entry;
  GS_ASSIGN_OR_RETURN(entry.manifest, load_manifest(*this, it->digest));
  GS_ASSIGN_OR_RETURN(entry.config_json, read_blob(entry.manifest.config.digest));
  for (const IndexEntry& e : index) {
    if (e.digest == it->digest) entry.tags.push_back(display_name(e.name));
  }
  entry.size = entry.manifest.config.size;
  for (const Descriptor& d : entry.manifest.layers) entry.size += d.size;
  return entry;
}

std::vector<ModelEntry> Store::list() const {
  std::vector<ModelEntry> out;
  auto index = load_index(root_);
  if (!index.ok()) return out;
  std::set<std::string> seen;
  for (const IndexEntry& e : *index) {
    if (!seen.insert(e.digest).second) continue;
    Reference by_digest;
    by_digest.digest = e.digest;
    auto entry = get(by_digest);
    if (entry.ok()) out.push_back(std::move(*entry));
  }
  return out;
}

Status Store::remove(const Reference& ref) {
  GS_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(root_ / "lock"));
  GS_ASSIGN_OR_RETURN(Index index, load_index(root_));
  Index removed;
  std::erase_if(index, [&](const IndexEntry& e) {
    if (!matches(e, ref)) return false;
    removed.push_back(e);
    return true;
  });
  if (removed.empty()) return Error("model {} not found in the store", ref.display());
  GS_ASSIGN_OR_RETURN(std::set<std::string> keep, referenced_blobs(*this, index));
  std::set<std::string> candidates;
  for (const IndexEntry& e : removed) {
    candidates.insert(e.digest);
    if (auto m = load_manifest(*this, e.digest); m.ok()) add_blobs_of(*m, candidates);
  }
  GS_RETURN_IF_ERROR(save_index(root_, std::move(index)));
  for (const std::string& d : candidates) {
    if (!keep.count(d)) ::unlink(blob_path(d).c_str());
  }
  return internal::sync_directory(blob_path(*candidates.begin()).parent_path());
}

Status Store::discard_blob(std::string_view digest) {
  GS_RETURN_IF_ERROR(check_digest(digest));
  GS_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(root_ / "lock"));
  GS_ASSIGN_OR_RETURN(Index index, load_index(root_));
  GS_ASSIGN_OR_RETURN(std::set<std::string> keep, referenced_blobs(*this, index));
  if (keep.count(std::string(digest))) return Status::Ok();
  if (::unlink(blob_path(digest).c_str()) != 0 && errno != ENOENT) {
    return Error("cannot delete blob {}: {}", digest, std::strerror(errno));
  }
  return internal::sync_directory(blob_path(digest).parent_path());
}

Result<DiskUsage> Store::disk_usage() const {
  GS_ASSIGN_OR_RETURN(Index index, load_index(root_));
  GS_ASSIGN_OR_RETURN(std::set<std::string> used, referenced_blobs(*this, index));
  DiskUsage u;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(root_ / "blobs" / "sha256", ec)) {
    const std::string name = f.path().filename().string();
    const uint64_t size = f.is_regular_file(ec) ? f.file_size(ec) : 0;
    if (name.size() > 8 && name.substr(name.size() - 8) == ".partial") {
      u.partial_bytes += size;
    } else if (is_valid_digest("sha256:" + name)) {
      u.blob_bytes += size;
      ++u.blobs;
      if (!used.count("sha256:" + name)) {
        u.unreferenced_bytes += size;
        ++u.unreferenced_blobs;
      }
    }
  }
  if (ec) return Error("cannot list {}: {}", (root_ / "blobs").string(), ec.message());
  return u;
}

Result<DiskUsage> Store::prune() {
  GS_ASSIGN_OR_RETURN(FileLock lock, FileLock::acquire(root_ / "lock"));
  GS_ASSIGN_OR_RETURN(Index index, load_index(root_));
  GS_ASSIGN_OR_RETURN(std::set<std::string> used, referenced_blobs(*this, index));
  DiskUsage freed;
  std::vector<fs::path> doomed;
  std::error_code ec;
  for (const fs::path& dir : {root_ / "blobs" / "sha256", root_}) {
    for (const auto& f : fs::directory_iterator(dir, ec)) {
      if (!f.is_regular_file(ec)) continue;
      const std::string name = f.path().filename().string();
      const uint64_t size = f.file_size(ec);
      if (is_temp(f.path())) {
        if (older_than(f.path(), kStaleTemp)) doomed.push_back(f.path());
      } else if (dir == root_) {
        continue;
      } else if (name.size() > 8 && name.substr(name.size() - 8) == ".partial") {
        // A download holds its blob's lock while it writes; a free lock means
        // nobody will append to this file again.
        const std::string hex = name.substr(0, name.size() - 8);
        if (!internal::lock_is_free(root_ / "locks" / (hex + ".lock"))) continue;
        freed.partial_bytes += size;
        doomed.push_back(f.path());
      } else if (is_valid_digest("sha256:" + name) && !used.count("sha256:" + name)) {
        freed.unreferenced_bytes += size;
        ++freed.unreferenced_blobs;
        doomed.push_back(f.path());
      }
    }
    if (ec) return Error("cannot list {}: {}", dir.string(), ec.message());
  }
  for (const fs::path& p : doomed) {
    if (::unlink(p.c_str()) != 0) return internal::sys_error("cannot remove", p);
  }
  freed.blob_bytes = freed.unreferenced_bytes + freed.partial_bytes;
  freed.blobs = freed.unreferenced_blobs;
  return freed;
}

Result<fs::path> Store::gguf_path(const Reference& ref) const {
  GS_ASSIGN_OR_RETURN(ModelEntry entry, get(ref));
  const auto layers = entry.manifest.gguf_layers();
  const fs::path path = blob_path(layers.front()->digest);
  if (!has_blob(layers.front()->digest))
    return Error("GGUF blob of {} is missing from the store", ref.display());
  return path;
}

}  // namespace gs::store
