#include "gateway/file_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gs::gateway {

std::unique_ptr<FileChangeWatch> FileChangeWatch::open(const std::string& path) {
  const std::filesystem::path file = std::filesystem::absolute(path);
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return nullptr;
  constexpr uint32_t kEvents = IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB;
  const std::string folder = file.parent_path().string();
  if (inotify_add_watch(fd, folder.c_str(), kEvents | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<FileChangeWatch>(new FileChangeWatch(fd, file.filename().string()));
}

FileChangeWatch::~FileChangeWatch() { ::close(fd_); }

bool FileChangeWatch::changed() {
  if (broken_) return true;
  alignas(inotify_event) char buffer[4096];
  bool changed = false;
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return changed;
    if (n <= 0) {
      broken_ = true;
      return true;
    }
    for (ssize_t at = 0; at < n;) {
      inotify_event event;
      std::memcpy(&event, buffer + at, sizeof event);
      const char* name = buffer + at + sizeof event;
      const bool about_file = event.len == 0 || std::strncmp(name, name_.c_str(), name_.size()) == 0;
      if (event.mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) broken_ = true;
      if (about_file || broken_) changed = true;
      at += static_cast<ssize_t>(sizeof event + event.len);
    }
  }
}

}  // namespace gs::gateway
