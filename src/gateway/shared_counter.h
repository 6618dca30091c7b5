// A 64-bit counter in a small file that every process maps. `genstack keys`
// bumps the key database's counter after each committed change; the gateway
// reads it on every request with a memory load (no system call, no SQLite
// read transaction), so a revoke made by any process on the machine counts at
// the next request. The file holds nothing secret.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace gs::gateway {

class SharedCounter {
 public:
  // Creates the file (8 zero bytes) when missing. Null when it cannot be opened read-write and
  // mapped (a read-only folder): callers then ask the database itself.
  static std::unique_ptr<SharedCounter> open(const std::string& path);
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;

  uint64_t value() const;
  void bump();

 private:
  explicit SharedCounter(uint64_t* word) : word_(word) {}
  uint64_t* word_;  // in a MAP_SHARED page of the file
};

}  // namespace gs::gateway
