// What `run` and `serve` accept as a model: a GGUF file path, or a reference
// to a model in the local store (docs/MODEL_STORE.md).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gs::cli {

// The GGUF file for `arg`: the file itself when it exists, else the stored
// model's GGUF blob. A model missing from the store is pulled when
// `pull_if_missing` (the registry client's hook), else an error that says how.
Result<std::filesystem::path> resolve_model(std::string_view arg, bool pull_if_missing);

// The name a model is known by: a file's stem ("stories260K"), or a
// reference's display form ("ai/smollm2:latest").
std::string model_display_id(std::string_view arg);

}  // namespace gs::cli
