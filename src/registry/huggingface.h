// Hugging Face pulls (internal): hf.co/ORG/REPO[:QUANT] picks the GGUF file(s)
// of that quantization from the repository listing (default Q4_K_M),
// downloads them from $HF_ENDPOINT (default https://huggingface.co) with
// resume, and stores them as a Docker model-spec artifact.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "registry/registry.h"

namespace gs::registry {

constexpr std::string_view kDefaultQuantization = "Q4_K_M";

// The .gguf files of `quantization` (case-insensitive, matched as a whole
// name part: "Q4_K" does not pick "Q4_K_M"), a sharded set in shard order.
// mmproj (vision projector) files are never picked.
Result<std::vector<std::string>> pick_gguf_files(const std::vector<std::string>& files,
                                                 std::string_view quantization);

// `https://huggingface.co/ORG/REPO/resolve/main/FILE` with FILE's parts escaped.
std::string hf_file_url(std::string_view endpoint, std::string_view repository, std::string_view file);

Result<store::Manifest> pull_huggingface(store::Store& store, const store::Reference& ref,
                                         const TransferOptions& options);

}  // namespace gs::registry
