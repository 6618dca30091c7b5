#include "core/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>

namespace gs {

double measure_read_bandwidth(ThreadPool& pool, size_t buffer_bytes) {
  const size_t n = buffer_bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buffer(new uint64_t[n]);
  // Touch every page from the threads that will read it, so no pass pays page faults.
  pool.parallel_for(static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) buffer[i] = static_cast<uint64_t>(i);
  });
  std::vector<uint64_t> sinks(static_cast<size_t>(pool.size()) * 8);
  double best = 0.0;
  for (int pass = 0; pass < 4; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](int ith, int nth) {
      const size_t per = n / static_cast<size_t>(nth) / 8 * 8;
      const uint64_t* p = buffer.get() + per * static_cast<size_t>(ith);
      // Eight independent sums keep enough loads in flight to saturate memory.
      uint64_t s[8] = {};
      for (size_t i = 0; i < per; i += 8) {
        for (int j = 0; j < 8; ++j) s[j] += p[i + j];
      }
      std::memcpy(&sinks[static_cast<size_t>(ith) * 8], s, sizeof s);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(n / static_cast<size_t>(pool.size()) / 8 * 8 * pool.size() * 8) / seconds);
  }
  return best;
}

}  // namespace gs
