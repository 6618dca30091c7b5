// PLACEHOLDER until the grammar branch lands.
#pragma once
#include <memory>
#include <string_view>
namespace gs {
class JsonGrammar {};
class JsonMatcher {
 public:
  explicit JsonMatcher(std::shared_ptr<const JsonGrammar>) {}
  bool advance(std::string_view) { return true; }
  bool complete() const { return true; }
  bool finished() const { return false; }
};
}  // namespace gs
#include <cstdint>
#include <string>
#include <vector>
namespace gs {
class TokenFilter {
 public:
  TokenFilter(std::vector<std::string>, std::vector<int32_t>) {}
  void allowed(const JsonMatcher&, std::vector<uint8_t>& mask) const { mask.assign(1 << 20, 1); }
};
}  // namespace gs
