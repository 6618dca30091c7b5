// File-system helpers of the store: atomic writes and non-blocking lock
// probes. Not part of the module's interface.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gs::store::internal {

// Prefix of every temporary file the store writes; prune removes old ones.
constexpr std::string_view kTempPrefix = ".tmp-";

Status sys_error(std::string_view what, const std::filesystem::path& path);
Status sync_directory(const std::filesystem::path& dir);
// Temp file in the same directory, fsync, rename over `path`, fsync of the directory.
Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes);
// Whether no process holds an flock on `path` right now (a missing file is free).
bool lock_is_free(const std::filesystem::path& path);

// A temporary file that becomes `target` on commit, or disappears.
class TempFile {
 public:
  static Result<TempFile> create(const std::filesystem::path& dir);
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile();
  Status write(const void* data, size_t size);
  // fsync, read-only mode when `read_only`, rename onto target, fsync the directory.
  Status commit(const std::filesystem::path& target, bool read_only);

 private:
  TempFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
  bool committed_ = false;
};

}  // namespace gs::store::internal
