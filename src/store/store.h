// The local model store under $GENSTACK_HOME (default ~/.genstack), laid out
// like an OCI image layout: content-addressed blobs shared between models,
// manifests as blobs, and an index from references to manifest digests.
//   models/blobs/sha256/<hex>          content, read-only once in place
//   models/blobs/sha256/<hex>.partial  a download in progress (resumable)
//   models/index.json                  reference -> manifest digest
//   models/lock                        flock(2): one writer process at a time
// Every write goes to a temporary file, is fsynced and renamed into place
// (then the directory fsynced), so a crash or a full disk never leaves a
// half-written blob or index behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/reference.h"

namespace gs::store {

// Docker model-spec (github.com/docker/model-spec) and CNCF ModelPack media types.
namespace media {
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kModelConfig = "application/vnd.docker.ai.model.config.v0.1+json";
constexpr std::string_view kGguf = "application/vnd.docker.ai.gguf.v3";
constexpr std::string_view kLicense = "application/vnd.docker.ai.license";
constexpr std::string_view kChatTemplate = "application/vnd.docker.ai.chat.template.jinja";
constexpr std::string_view kCncfConfig = "application/vnd.cncf.model.config.v1+json";
constexpr std::string_view kCncfGguf = "application/vnd.cncf.model.weight.v1.gguf";
}  // namespace media

struct Descriptor {
  std::string media_type;
  std::string digest;
  uint64_t size = 0;
  std::map<std::string, std::string> annotations;
};

// A parsed, checked manifest: known media types, valid digests, sane sizes.
struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::string raw;     // the exact bytes (their sha256 is the manifest digest)
  std::string digest;  // sha256 of raw
  // GGUF layers in order (a sharded model has several).
  std::vector<const Descriptor*> gguf_layers() const;
};
// Rejects unknown manifest/config media types, invalid digests, sizes past
// 1 TiB, more than 1024 layers, and a model without a GGUF layer.
Result<Manifest> parse_manifest(std::string raw);

struct ModelEntry {
  std::vector<std::string> tags;  // display form, "ai/smollm2:latest"
  Manifest manifest;
  std::string config_json;  // the config blob
  uint64_t size = 0;        // config + layers
};

struct DiskUsage {
  uint64_t blob_bytes = 0, blobs = 0;
  uint64_t unreferenced_bytes = 0, unreferenced_blobs = 0;
  uint64_t partial_bytes = 0;
};

// An exclusive flock(2) held until destruction.
class FileLock {
 public:
  static Result<FileLock> acquire(const std::filesystem::path& path);  // blocks
  FileLock(FileLock&&) noexcept;
  FileLock& operator=(FileLock&&) noexcept;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

class Store {
 public:
  // Creates the directories on first use. home: $GENSTACK_HOME or ~/.genstack.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& home);
  static std::filesystem::path default_home();

  // ---- blobs
  bool has_blob(std::string_view digest) const;
  std::filesystem::path blob_path(std::string_view digest) const;
  // Where a download of `digest` writes (appends, to resume) before commit.
  std::filesystem::path partial_path(std::string_view digest) const;
  // Hashes the partial file; if it matches `digest` (and `size`), fsyncs and
  // renames it into place. On a mismatch the partial file is deleted and an
  // error returned: nothing unverified enters the store.
  Status commit_partial(std::string_view digest, uint64_t size);
  // Stores bytes whose digest is computed here; returns it.
  Result<std::string> put_blob(std::string_view bytes);
  // Copies a file in (hashing while copying); returns its digest.
  Result<std::string> put_file(const std::filesystem::path& file);
  Result<std::string> read_blob(std::string_view digest) const;  // small blobs (manifests, configs)
  // Held while downloading `digest`: a second process pulling the same blob
  // waits, then finds it present (two concurrent pulls download it once).
  Result<FileLock> lock_blob(std::string_view digest);

  // ---- references (all take the store lock)
  // Points `ref` (its canonical name) at a manifest whose blobs are all present.
  Status tag(const Reference& ref, const Manifest& manifest);
  Result<ModelEntry> get(const Reference& ref) const;  // by tag or by digest
  std::vector<ModelEntry> list() const;
  // Removes the tag; blobs no other model uses are deleted.
  Status remove(const Reference& ref);
  // Deletes a blob no model in the index uses (a pulled layer that failed
  // its checks); a blob some model uses stays.
  Status discard_blob(std::string_view digest);
  Result<DiskUsage> disk_usage() const;
  Result<DiskUsage> prune();  // deletes unreferenced blobs and stale partials; what was freed
  // The GGUF file to load for `ref`: the first GGUF layer's blob path.
  Result<std::filesystem::path> gguf_path(const Reference& ref) const;

 private:
  explicit Store(std::filesystem::path root);
  std::filesystem::path root_;
};

}  // namespace gs::store
