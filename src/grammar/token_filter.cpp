#include "grammar/token_filter.h"

#include <algorithm>

#include "grammar/grammar_internal.h"

namespace gs {

TokenFilter::TokenFilter(std::vector<std::string> token_bytes, std::vector<int32_t> end_tokens)
    : vocab_size_(token_bytes.size()) {
  std::vector<uint8_t> is_end(vocab_size_, 0);
  for (int32_t id : end_tokens) {
    if (id < 0 || static_cast<size_t>(id) >= vocab_size_ || is_end[static_cast<size_t>(id)]) continue;
    is_end[static_cast<size_t>(id)] = 1;
    end_tokens_.push_back(id);
  }
  // End tokens are judged by completeness alone, whatever text they carry.
  std::vector<int32_t> order;
  for (size_t id = 0; id < vocab_size_; ++id) {
    if (!token_bytes[id].empty() && !is_end[id]) order.push_back(static_cast<int32_t>(id));
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const std::string& x = token_bytes[static_cast<size_t>(a)];
    const std::string& y = token_bytes[static_cast<size_t>(b)];
    return x != y ? x < y : a < b;
  });

  // Sorted strings give the trie in depth-first order: each adds the nodes
  // past its common prefix with the previous one.
  std::vector<uint32_t> path;  // node index per depth - 1
  const std::string* prev = nullptr;
  for (int32_t id : order) {
    const std::string& s = token_bytes[static_cast<size_t>(id)];
    size_t common = 0;
    if (prev) {
      while (common < prev->size() && common < s.size() && (*prev)[common] == s[common]) ++common;
    }
    while (path.size() > common) {
      nodes_[path.back()].end = static_cast<uint32_t>(nodes_.size());
      path.pop_back();
    }
    const auto tokens = static_cast<uint32_t>(token_ids_.size());
    for (size_t d = common; d < s.size(); ++d) {
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back({0, tokens, tokens, static_cast<uint32_t>(d + 1), static_cast<uint8_t>(s[d])});
    }
    token_ids_.push_back(id);
    nodes_[path.back()].tok_end = static_cast<uint32_t>(token_ids_.size());
    max_depth_ = std::max(max_depth_, s.size());
    prev = &s;
  }
  while (!path.empty()) {
    nodes_[path.back()].end = static_cast<uint32_t>(nodes_.size());
    path.pop_back();
  }
}

void TokenFilter::allowed(const JsonMatcher& matcher, std::vector<uint8_t>& mask) const {
  mask.assign(vocab_size_, 0);
  const grammar::Program& program = matcher.grammar().program();
  // The matcher state after each byte of the current trie path; a child
  // starts from a copy of its parent's.
  std::vector<std::vector<grammar::Frame>> states(max_depth_ + 1);
  std::vector<grammar::Frame> scratch;
  states[0] = matcher.frames_;
  size_t i = 0;
  while (i < nodes_.size()) {
    const TrieNode& n = nodes_[i];
    std::vector<grammar::Frame>& state = states[n.depth];
    state = states[n.depth - 1];
    if (!grammar::step(program, state, scratch, n.byte)) {
      i = n.end;  // no token below this prefix can follow
      continue;
    }
    for (uint32_t k = n.tok_begin; k < n.tok_end; ++k) mask[static_cast<size_t>(token_ids_[k])] = 1;
    ++i;
  }
  if (!end_tokens_.empty() && matcher.complete()) {
    for (int32_t id : end_tokens_) mask[static_cast<size_t>(id)] = 1;
  }
}

}  // namespace gs
