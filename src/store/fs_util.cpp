#include "store/fs_util.h"

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gs::store::internal {

Status sys_error(std::string_view what, const std::filesystem::path& path) {
  return Error("{} {}: {}", what, path.string(), std::strerror(errno));
}

Status sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open directory", dir);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  errno = err;
  if (rc != 0) return sys_error("fsync failed for directory", dir);
  return Status::Ok();
}

Result<TempFile> TempFile::create(const std::filesystem::path& dir) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::filesystem::path path =
        dir / fmt::format("{}{}-{}", kTempPrefix, ::getpid(), counter.fetch_add(1));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) return TempFile(fd, path);
    if (errno != EEXIST) return sys_error("cannot create", path);
  }
  return Error("cannot create a temporary file in {}", dir.string());
}

TempFile::TempFile(TempFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), committed_(other.committed_) {
  other.committed_ = true;  // the moved-from object owns nothing to clean up
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !path_.empty()) ::unlink(path_.c_str());
}

Status TempFile::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("cannot write", path_);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status TempFile::commit(const std::filesystem::path& target, bool read_only) {
  if (::fsync(fd_) != 0) return sys_error("fsync failed for", path_);
  if (read_only && ::fchmod(fd_, 0444) != 0) return sys_error("cannot chmod", path_);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return sys_error("cannot close", path_);
  if (::rename(path_.c_str(), target.c_str()) != 0) return sys_error("cannot rename into place:", target);
  committed_ = true;
  return sync_directory(target.parent_path());
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  GS_ASSIGN_OR_RETURN(TempFile tmp, TempFile::create(path.parent_path()));
  GS_RETURN_IF_ERROR(tmp.write(bytes.data(), bytes.size()));
  return tmp.commit(path, false);
}

bool lock_is_free(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);  // also releases the probe's own lock
  return free;
}

}  // namespace gs::store::internal
