// Measures this machine's streaming read bandwidth: the ceiling for decode,
// which reads every weight once per token.
#pragma once

#include <cstddef>

#include "core/thread_pool.h"

namespace gs {

// Bytes/s reading a buffer much larger than the last-level cache with every
// thread of the pool (best of a few passes).
double measure_read_bandwidth(ThreadPool& pool, size_t buffer_bytes = size_t{1} << 30);

}  // namespace gs
