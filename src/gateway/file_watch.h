// Tells cheaply whether a file may have changed: inotify on its folder, read
// without blocking. The gateway asks on every request whether the keys
// database changed (a `genstack keys revoke` in another process must count at
// the next request); asking SQLite costs a read transaction (two fcntl locks
// and a statement), asking inotify one read(2) that finds nothing.
//
// A write is queued as an event before the writer's write(2) returns, so a
// change made before a request was sent is always seen when that request asks.
#pragma once

#include <memory>
#include <string>

namespace gs::gateway {

class FileChangeWatch {
 public:
  // Watches `path` and the files beside it whose names start with its name
  // (SQLite's -wal and -journal). Null where inotify is not available.
  static std::unique_ptr<FileChangeWatch> open(const std::string& path);
  ~FileChangeWatch();
  FileChangeWatch(const FileChangeWatch&) = delete;
  FileChangeWatch& operator=(const FileChangeWatch&) = delete;

  // True when one of the files was written, created, removed or renamed
  // since the last call; always true once the watch broke (the folder went,
  // or the kernel's event queue overflowed).
  bool changed();

 private:
  FileChangeWatch(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  int fd_;
  std::string name_;  // file name without its folder
  bool broken_ = false;
};

}  // namespace gs::gateway
