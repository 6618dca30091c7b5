// sha256 content digests ("sha256:<64 lowercase hex>"), OpenSSL EVP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gs::store {

// True for "sha256:" followed by exactly 64 lowercase hex digits: nothing
// path-like ever reaches the file system.
bool is_valid_digest(std::string_view digest);
Status check_digest(std::string_view digest);

std::string sha256_digest(std::string_view bytes);
Result<std::string> sha256_file(const std::string& path);

// Incremental hashing (downloads hash as they write, resumed ones re-hash
// the part already on disk first).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, size_t size);
  std::string finish();  // "sha256:<hex>"; the object is spent afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gs::store
