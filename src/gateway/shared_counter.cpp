#include "gateway/shared_counter.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

namespace gs::gateway {

std::unique_ptr<SharedCounter> SharedCounter::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return nullptr;
  struct stat st {};
  // Only ever grown (to 8 bytes), never shrunk: a mapped page past the end of a file faults.
  bool ok = ::fstat(fd, &st) == 0 && (st.st_size >= 8 || ::ftruncate(fd, 8) == 0);
  void* map = ok ? ::mmap(nullptr, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);  // the mapping keeps the file
  if (map == MAP_FAILED) return nullptr;
  return std::unique_ptr<SharedCounter>(new SharedCounter(static_cast<uint64_t*>(map)));
}

SharedCounter::~SharedCounter() { ::munmap(word_, 8); }

uint64_t SharedCounter::value() const {
  return std::atomic_ref<uint64_t>(*word_).load(std::memory_order_acquire);
}

void SharedCounter::bump() { std::atomic_ref<uint64_t>(*word_).fetch_add(1, std::memory_order_acq_rel); }

}  // namespace gs::gateway
