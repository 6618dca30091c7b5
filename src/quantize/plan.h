// Internal to the quantize module: which type each tensor of a model gets.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"
#include "tensor/types.h"

namespace gs::quant {

enum class Mixture { kNone, kQ4_K_M, kQ5_K_M };

// What `genstack quantize ... TYPE` asks for.
struct Target {
  GgmlType type;    // every weight matrix, except where the mixture says otherwise
  Mixture mixture;  // kNone: one type for all matrices ("pure", like llama.cpp --pure)
  uint32_t ftype;   // llama.cpp's general.file_type for the result
};

// "q8_0", "Q4_K", "q4_K_M", "f16", ... (case-insensitive).
Result<Target> parse_target(std::string_view name);

// Whether a tensor is a weight matrix that quantization applies to (norms,
// biases and a few small special matrices are copied unchanged).
bool is_quantizable(std::string_view name, size_t n_dims);

// The type of every tensor of `file`, in file order: unchanged for tensors
// that are not quantizable, else the target type adjusted by the mixture
// rules and by the row-length fallback.
std::vector<GgmlType> plan_types(const gguf::File& file, const Target& target);

}  // namespace gs::quant
