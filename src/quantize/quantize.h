// `genstack quantize`: rewrites a GGUF model with its weight matrices in
// another type, keeping every metadata key and non-matrix tensor.
#pragma once

#include <string>

#include "core/status.h"

namespace gs {

struct QuantizeOptions {
  // A tensor type ("q8_0", "q4_0", "q4_K", "q6_K", ...) or a mixture
  // ("q4_K_M": Q4_K with Q6_K where llama.cpp's Q4_K_M puts it).
  std::string target = "q8_0";
  // Quantized input is refused unless set (re-quantizing loses precision).
  bool allow_requantize = false;
  int n_threads = 0;  // 0: one per physical core
};

// Reads `input`, writes `output` atomically. Errors are one line.
Status quantize_file(const std::string& input, const std::string& output, const QuantizeOptions& options);

}  // namespace gs
