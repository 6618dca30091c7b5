#include "store/store.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/digest.h"
#include "store/fs_util.h"

namespace gs::store {
namespace fs = std::filesystem;
using internal::sys_error;

namespace {

constexpr uint64_t kMaxSmallBlob = 16u << 20;

std::string hex_of(std::string_view digest) { return std::string(digest.substr(digest.find(':') + 1)); }

}  // namespace

// ---- FileLock

Result<FileLock> FileLock::acquire(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error("cannot open lock file", path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    Status s = sys_error("cannot lock", path);
    ::close(fd);
    return s;
  }
  return FileLock(fd);
}
FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}
FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

// ---- opening

Store::Store(fs::path root) : root_(std::move(root)) {}

fs::path Store::default_home() {
  if (const char* env = std::getenv("GENSTACK_HOME"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".genstack";
}

Result<std::unique_ptr<Store>> Store::open(const fs::path& home) {
  const fs::path root = home / "models";
  std::error_code ec;
  fs::create_directories(root / "blobs" / "sha256", ec);
  if (!ec) fs::create_directories(root / "locks", ec);
  if (ec) return Error("cannot create the model store in {}: {}", root.string(), ec.message());
  return std::unique_ptr<Store>(new Store(root));
}

// ---- blobs

fs::path Store::blob_path(std::string_view digest) const {
  return root_ / "blobs" / "sha256" / hex_of(digest);
}

fs::path Store::partial_path(std::string_view digest) const {
  return root_ / "blobs" / "sha256" / (hex_of(digest) + ".partial");
}

bool Store::has_blob(std::string_view digest) const {
  std::error_code ec;
  return is_valid_digest(digest) && fs::is_regular_file(blob_path(digest), ec);
}

Status Store::commit_partial(std::string_view digest, uint64_t size) {
  GS_RETURN_IF_ERROR(check_digest(digest));
  const fs::path partial = partial_path(digest);
  const int fd = ::open(partial.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open", partial);
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  ssize_t n = 0;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0 || (n < 0 && errno == EINTR)) {
    if (n < 0) continue;
    hash.update(buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  const bool read_failed = n < 0;
  const bool synced = !read_failed && ::fsync(fd) == 0;
  ::close(fd);
  if (read_failed) return sys_error("cannot read", partial);
  const std::string actual = hash.finish();
  if (actual != digest || total != size) {
    ::unlink(partial.c_str());
    return Error("blob {} failed verification: got {} bytes with digest {}, expected {} bytes", digest, total,
                 actual, size);
  }
  if (!synced) return sys_error("fsync failed for", partial);
  ::chmod(partial.c_str(), 0444);
  if (::rename(partial.c_str(), blob_path(digest).c_str()) != 0) return sys_error("cannot rename", partial);
  return internal::sync_directory(partial.parent_path());
}

Result<std::string> Store::put_blob(std::string_view bytes) {
  std::string digest = sha256_digest(bytes);
  if (has_blob(digest)) return digest;
  GS_ASSIGN_OR_RETURN(internal::TempFile tmp, internal::TempFile::create(blob_path(digest).parent_path()));
  GS_RETURN_IF_ERROR(tmp.write(bytes.data(), bytes.size()));
  GS_RETURN_IF_ERROR(tmp.commit(blob_path(digest), true));
  return digest;
}

Result<std::string> Store::put_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open", file);
  auto tmp = internal::TempFile::create(root_ / "blobs" / "sha256");
  if (!tmp.ok()) {
    ::close(fd);
    return tmp.status();
  }
  Sha256 hash;
  std::vector<char> buf(4 << 20);
  Status status;
  while (status.ok()) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = sys_error("cannot read", file);
    if (n <= 0) break;
    hash.update(buf.data(), static_cast<size_t>(n));
    status = tmp->write(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  GS_RETURN_IF_ERROR(status);
  std::string digest = hash.finish();
  if (has_blob(digest)) return digest;  // the temp copy goes away with `tmp`
  GS_RETURN_IF_ERROR(tmp->commit(blob_path(digest), true));
  return digest;
}

Result<std::string> Store::read_blob(std::string_view digest) const {
  GS_RETURN_IF_ERROR(check_digest(digest));
  const fs::path path = blob_path(digest);
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return Error("blob {} is not in the store", digest);
  if (size > kMaxSmallBlob) return Error("blob {} is too large to read into memory ({} bytes)", digest, size);
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) return sys_error("cannot read", path);
  return bytes;
}

Result<FileLock> Store::lock_blob(std::string_view digest) {
  GS_RETURN_IF_ERROR(check_digest(digest));
  return FileLock::acquire(root_ / "locks" / (hex_of(digest) + ".lock"));
}

}  // namespace gs::store
