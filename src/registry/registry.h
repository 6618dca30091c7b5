// The OCI distribution client: pull models from any registry that speaks the
// OCI distribution spec (Docker Hub by default) or from Hugging Face into
// the local store, and push them back. Progress is reported through a
// callback whose events map one to one onto Ollama's /api/pull NDJSON.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/status.h"
#include "store/reference.h"
#include "store/store.h"

namespace gs::registry {

struct Progress {
  // "pulling manifest", "pulling <digest>", "verifying sha256 digest",
  // "writing manifest", "success"; pushes: "pushing <digest>", "pushing manifest".
  std::string status;
  std::string digest;  // blob events only
  uint64_t total = 0;
  uint64_t completed = 0;
  bool done = false;     // the blob is in the store (or on the registry)
  bool skipped = false;  // it already was: nothing was transferred
  static Progress step(std::string status) { return {std::move(status), {}, 0, 0, false, false}; }
};
// Called from several download threads at once: implementations lock.
using ProgressFn = std::function<void(const Progress&)>;

struct TransferOptions {
  std::filesystem::path home;  // $GENSTACK_HOME: auth.json lives there
  bool insecure = false;       // plain http:// to the registry
  ProgressFn progress;         // may be empty
  int parallel = 4;            // blobs downloaded at once
};

// Downloads the manifest and every blob not yet present (resuming partial
// downloads, verifying sha256 before anything enters the store), then tags
// the reference. hf.co/... references go to Hugging Face.
Result<store::Manifest> pull(store::Store& store, const store::Reference& ref,
                             const TransferOptions& options);
// Uploads the blobs the registry lacks (mounting them from another repository
// of the same registry when the store knows one), then the manifest.
// Returns the manifest digest.
Result<std::string> push(store::Store& store, const store::Reference& ref, const TransferOptions& options);

}  // namespace gs::registry
