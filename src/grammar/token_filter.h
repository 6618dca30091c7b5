// Which tokens of a vocabulary may come next under a JsonMatcher: the mask a
// sampler applies (others' logits to -inf) at every step of a sequence with
// a response_format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grammar/json_grammar.h"

namespace gs {

// Per vocabulary: built once per model, immutable, usable from many threads.
class TokenFilter {
 public:
  // token_bytes[id]: the token's raw bytes ("" for control/special tokens).
  // end_tokens: the ids that end generation (EOS, EOT...).
  TokenFilter(std::vector<std::string> token_bytes, std::vector<int32_t> end_tokens);

  // mask[id] = 1 if the token may come next: its bytes are accepted by
  // `matcher` (tokens with empty bytes never, except end tokens, which are
  // allowed iff matcher.complete()). `mask` is resized to the vocabulary.
  void allowed(const JsonMatcher& matcher, std::vector<uint8_t>& mask) const;

  size_t vocab_size() const { return vocab_size_; }
  size_t trie_nodes() const { return nodes_.size(); }

 private:
  // The byte trie of all tokens, in depth-first order: a node's subtree is
  // the nodes after it up to `end`, so a rejected byte skips it at once.
  struct TrieNode {
    uint32_t end;        // index just past this node's subtree
    uint32_t tok_begin;  // tokens whose bytes end here: token_ids_[tok_begin, tok_end)
    uint32_t tok_end;
    uint32_t depth;  // bytes from the root (1 for a first byte)
    uint8_t byte;
  };
  std::vector<TrieNode> nodes_;
  std::vector<int32_t> token_ids_;
  std::vector<int32_t> end_tokens_;
  size_t vocab_size_ = 0;
  size_t max_depth_ = 0;
};

}  // namespace gs
