#include "engine/block_pool.h"

#include <algorithm>
#include <cassert>

namespace gs {

BlockPool::BlockPool(int32_t n_blocks, int32_t block_rows) : block_rows_(block_rows), blocks_(n_blocks) {
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

uint64_t BlockPool::prefix_hash(std::span<const TokenId> tokens, int32_t n_blocks) const {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the token ids
  const size_t n = static_cast<size_t>(n_blocks) * static_cast<size_t>(block_rows_);
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<uint32_t>(tokens[i]);
    h *= 1099511628211ull;
  }
  return h;
}

int32_t BlockPool::allocate() {
  int32_t b = -1;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!evictable_.empty()) {
    b = evictable_.front();
    evictable_.pop_front();
    forget(b);
  } else {
    return -1;
  }
  blocks_[static_cast<size_t>(b)].refs = 1;
  return b;
}

void BlockPool::forget(int32_t b) {
  Block& block = blocks_[static_cast<size_t>(b)];
  if (!block.published) return;
  published_.erase(block.hash);
  block.published = false;
  block.tokens.clear();
}

void BlockPool::release(int32_t b) {
  Block& block = blocks_[static_cast<size_t>(b)];
  assert(block.refs > 0);
  if (--block.refs > 0) return;
  if (block.published) {
    block.lru = evictable_.insert(evictable_.end(), b);
  } else {
    free_.push_back(b);
  }
}

void BlockPool::release_all(std::span<const int32_t> blocks) {
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) release(*it);
}

std::vector<int32_t> BlockPool::match_prefix(std::span<const TokenId> tokens, int32_t max_blocks) {
  std::vector<int32_t> out;
  const int32_t limit = std::min<int32_t>(max_blocks, static_cast<int32_t>(tokens.size()) / block_rows_);
  for (int32_t i = 0; i < limit; ++i) {
    const auto it = published_.find(prefix_hash(tokens, i + 1));
    if (it == published_.end()) break;
    Block& block = blocks_[static_cast<size_t>(it->second)];
    const size_t n = static_cast<size_t>(i + 1) * static_cast<size_t>(block_rows_);
    if (block.tokens.size() != n || !std::equal(block.tokens.begin(), block.tokens.end(), tokens.begin()))
      break;
    if (block.refs++ == 0) evictable_.erase(block.lru);
    out.push_back(it->second);
  }
  return out;
}

void BlockPool::publish(int32_t b, std::span<const TokenId> tokens, int32_t index) {
  Block& block = blocks_[static_cast<size_t>(b)];
  if (block.published) return;
  const uint64_t h = prefix_hash(tokens, index + 1);
  if (!published_.emplace(h, b).second) return;
  block.published = true;
  block.hash = h;
  const size_t n = static_cast<size_t>(index + 1) * static_cast<size_t>(block_rows_);
  block.tokens.assign(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace gs
