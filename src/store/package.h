// Building Docker model-spec artifacts from GGUF files (`genstack package`)
// and reading their configs back (`genstack list`, `inspect`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace gs::store {

struct PackageInputs {
  std::vector<std::filesystem::path> gguf_files;  // shards in order
  std::vector<std::filesystem::path> licenses;
  std::filesystem::path chat_template;  // empty: none
  int64_t context_size = 0;             // 0: not recorded
};

// Checks every GGUF structurally, copies all files into the store and writes
// config and manifest blobs; returns the manifest (not yet tagged). The same
// inputs (bytes and the first GGUF's mtime) give the same digests.
Result<Manifest> package_model(Store& store, const PackageInputs& inputs);

// What `list` shows, from a Docker model-spec (v0.1 as Docker Model Runner
// writes it, or the spec's gguf object) or a CNCF ModelPack config.
struct ConfigSummary {
  std::string format, architecture, parameters, quantization, created;  // "" when unknown
  int64_t context_size = 0;
};
ConfigSummary summarize_config(std::string_view config_json);

// llama.cpp's general.file_type names ("Q4_K_M"); "" when unknown.
std::string file_type_name(int64_t file_type);
// "135M", "1.24B", "292.90K": a parameter count the way model names say it.
std::string format_parameter_count(uint64_t count);

}  // namespace gs::store
