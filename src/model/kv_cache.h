// Storage for the keys and values of cached positions, in fixed-size blocks
// shared by every sequence of a model (paged attention): a sequence owns a
// list of block indices, so sequences grow, shrink and share prompt prefixes
// without copying. Which block belongs to whom is the engine's business; this
// class only holds the bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "tensor/ops.h"

namespace gs {

struct KvCacheOptions {
  int64_t n_blocks = 1;
  int64_t block_rows = 16;        // positions per block
  GgmlType type = GgmlType::F16;  // F16, Q8_0 or F32
};

class KvCache {
 public:
  static Result<std::unique_ptr<KvCache>> create(const ModelConfig& config, const KvCacheOptions& options);

  int64_t n_blocks() const { return n_blocks_; }
  int64_t block_rows() const { return block_rows_; }
  GgmlType type() const { return type_; }
  // Bytes of one position of one layer (all kv heads).
  size_t row_bytes() const { return row_bytes_; }
  uint64_t bytes() const { return static_cast<uint64_t>(k_.size() + v_.size()); }

  // The first row of `block` for `layer`; rows of a block are contiguous.
  uint8_t* k(int64_t layer, int64_t block) { return k_.data() + offset(layer, block); }
  uint8_t* v(int64_t layer, int64_t block) { return v_.data() + offset(layer, block); }
  KvBlock block(int64_t layer, int64_t block) const {
    return {k_.data() + offset(layer, block), v_.data() + offset(layer, block)};
  }

 private:
  KvCache() = default;
  // Layout [block][layer][row]: a block's rows for one layer are contiguous.
  size_t offset(int64_t layer, int64_t block) const {
    return (static_cast<size_t>(block * n_layer_ + layer) * static_cast<size_t>(block_rows_)) * row_bytes_;
  }

  int64_t n_layer_ = 0;
  int64_t n_blocks_ = 0;
  int64_t block_rows_ = 0;
  GgmlType type_ = GgmlType::F16;
  size_t row_bytes_ = 0;
  std::vector<uint8_t> k_, v_;
};

}  // namespace gs
