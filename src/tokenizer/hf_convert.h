// Hugging Face tokenizer.json (+ tokenizer_config.json) -> GGUF vocabulary
// metadata, so that real vocabularies can be used and tested without model
// weights. Byte-level BPE only (model.type "BPE" with a ByteLevel
// pre-tokenizer: GPT-2, Llama 3, Qwen, SmolLM, DeepSeek, ...).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"

namespace gs::hf {

using Metadata = std::vector<std::pair<std::string, gguf::Value>>;

struct ConvertOptions {
  // tokenizer.ggml.pre to write instead of the one recognized from the
  // pre_tokenizer section (needed for pre-tokenizers we do not recognize).
  std::string pre;
};

// The tokenizer.* keys for the given file contents; `config_json` may be
// empty (no tokenizer_config.json). Writes tokenizer.ggml.model/pre/tokens/
// token_type/merges, the bos/eos/unknown/padding ids that the config names,
// add_bos_token/add_eos_token, tokenizer.chat_template (and
// tokenizer.chat_template.NAME for named templates), and
// tokenizer.genstack.normalizer/ignore_merges.
Result<Metadata> convert(std::string_view tokenizer_json, std::string_view config_json,
                         const ConvertOptions& options = {});

// Same, reading the files; `config_path` may be "".
Result<Metadata> convert_files(const std::string& tokenizer_path, const std::string& config_path,
                               const ConvertOptions& options = {});

// A GGUF file with this metadata and no tensors (a vocabulary-only file).
Status write_vocab_gguf(const Metadata& metadata, const std::string& path);

}  // namespace gs::hf
