// Ownership of the KV cache's blocks: which are free, which sequences hold
// which (reference counts), and the prefix cache: a full block is published
// under the hash of every token up to its end, so a later sequence whose
// tokens start the same way reuses it instead of recomputing. Unreferenced
// published blocks stay cached until the space is needed (least recently
// released first).
#pragma once

#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gs {

class BlockPool {
 public:
  BlockPool(int32_t n_blocks, int32_t block_rows);

  int32_t block_rows() const { return block_rows_; }
  int32_t n_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  // Blocks that allocate() can hand out (free or cached but unreferenced).
  int32_t available() const { return static_cast<int32_t>(free_.size() + evictable_.size()); }
  int32_t in_use() const { return n_blocks() - available(); }

  // A block for new rows (reference count 1), or -1 when none is left.
  int32_t allocate();
  void release(int32_t block);
  // Releases a sequence's blocks, last first: the free list then hands them
  // out again first to last, so a new sequence's blocks are consecutive
  // (attention reads a head's rows in one run, see KvCache), and cached
  // prefix blocks are evicted from the end of a prompt before its start.
  void release_all(std::span<const int32_t> blocks);

  // The longest run of published blocks that hold tokens[0, k * block_rows)
  // for some k <= max_blocks; each is retained for the caller.
  std::vector<int32_t> match_prefix(std::span<const TokenId> tokens, int32_t max_blocks);
  // Publishes `block`, which holds tokens[index * block_rows, (index + 1) *
  // block_rows) of `tokens`, for reuse. A block whose content is already
  // published stays private.
  void publish(int32_t block, std::span<const TokenId> tokens, int32_t index);

 private:
  struct Block {
    int32_t refs = 0;
    bool published = false;
    uint64_t hash = 0;
    std::vector<TokenId> tokens;  // everything up to the block's end: exact match, no hash collisions
    std::list<int32_t>::iterator lru;
  };
  uint64_t prefix_hash(std::span<const TokenId> tokens, int32_t n_blocks) const;
  void forget(int32_t block);

  int32_t block_rows_;
  std::vector<Block> blocks_;
  std::vector<int32_t> free_;
  std::list<int32_t> evictable_;  // published, unreferenced; front = oldest
  std::unordered_map<uint64_t, int32_t> published_;
};

}  // namespace gs
