// tokenizer.ggml.model = "llama": SentencePiece-style BPE by piece scores with
// byte fallback, as llama.cpp's llm_tokenizer_spm. Internal to the module;
// callers go through Tokenizer::from_gguf.
#pragma once

#include <memory>

#include "core/status.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace gs {

Result<std::unique_ptr<Tokenizer>> make_spm_tokenizer(const gguf::File& file);

}  // namespace gs
