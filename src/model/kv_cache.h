// Storage for the keys and values of cached positions, in fixed-size blocks
// shared by every sequence of a model (paged attention): a sequence owns a
// list of block indices, so sequences grow, shrink and share prompt prefixes
// without copying. Which block belongs to whom is the engine's business; this
// class only holds the bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
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
  uint64_t bytes() const { return static_cast<uint64_t>(k_.size() + v_.size()); }

  // Where position `row` of `block` for kv head `head` of `layer` goes.
  uint8_t* k(int64_t layer, int64_t block, int64_t head, int64_t row) {
    return k_.data() + offset(layer, block) + slice_offset(head, row);
  }
  uint8_t* v(int64_t layer, int64_t block, int64_t head, int64_t row) {
    return v_.data() + offset(layer, block) + slice_offset(head, row);
  }
  // The start of `block` for `layer`: head 0's rows (head_layout() says where
  // the other heads' rows are).
  KvBlock block(int64_t layer, int64_t block) const {
    return {k_.data() + offset(layer, block), v_.data() + offset(layer, block)};
  }
  // Where attention finds kv head `head`'s rows in `blocks` (blocks of this
  // cache, all of one layer, from block()).
  KvLayout head_layout(int64_t head, std::span<const KvBlock> blocks) const {
    return {type_, slice_bytes_, head * n_blocks_ * block_rows_ * head_dim_, block_rows_, blocks};
  }

 private:
  KvCache() = default;
  // Layout [layer][kv head][block][row]: the rows of one head in one block
  // are contiguous, and so are a head's rows in consecutive blocks, so
  // attention, which walks one head's rows block after block, reads one run
  // where a sequence holds consecutive blocks (as a fresh pool hands them
  // out), and block_rows * slice_bytes runs otherwise. Measured (bench
  // attend_group, 4096 positions, 2 threads): rows of all heads together
  // 1.3-1.5 ms a layer, each head's rows of a block together but blocks
  // [block][layer] 0.78-0.83 ms, this layout 0.50-0.51 ms.
  size_t offset(int64_t layer, int64_t block) const {
    return static_cast<size_t>((layer * n_head_kv_ * n_blocks_ + block) * block_rows_) * slice_bytes_;
  }
  size_t slice_offset(int64_t head, int64_t row) const {
    return static_cast<size_t>(head * n_blocks_ * block_rows_ + row) * slice_bytes_;
  }

  int64_t n_head_kv_ = 0;
  int64_t head_dim_ = 0;
  int64_t n_blocks_ = 0;
  int64_t block_rows_ = 0;
  GgmlType type_ = GgmlType::F16;
  size_t slice_bytes_ = 0;
  std::vector<uint8_t> k_, v_;
};

}  // namespace gs
