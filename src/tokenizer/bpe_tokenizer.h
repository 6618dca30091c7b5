// tokenizer.ggml.model = "gpt2": byte-level BPE as Hugging Face's tokenizers
// run it (Llama 3, Qwen2/3, SmolLM, DeepSeek, GPT-2): added tokens split out,
// optional NFC, the regex pre-tokenizer of tokenizer.ggml.pre, then merges by
// rank over the bytes of each piece. Internal to the module; callers go
// through Tokenizer::from_gguf.
//
// Keys read besides the common ones: tokenizer.ggml.merges ("left right"
// strings, rank = index), tokenizer.ggml.pre, and two that our converter
// writes to record Hugging Face options the GGUF format has no key for:
// tokenizer.genstack.normalizer ("nfc" or "none") and
// tokenizer.genstack.ignore_merges (bool). Files without them (llama.cpp's)
// get the defaults of their tokenizer.ggml.pre family.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace gs {

Result<std::unique_ptr<Tokenizer>> make_bpe_tokenizer(const gguf::File& file);

// GPT-2's byte-to-unicode map: the printable character (as UTF-8) that
// stands for byte b in byte-level token texts, and the way back. The inverse
// keeps characters that stand for no byte as their own UTF-8.
std::string byte_level_encode(std::string_view bytes);
std::string byte_level_decode(std::string_view text);

}  // namespace gs
