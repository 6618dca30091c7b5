#include "registry/download.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "store/digest.h"

namespace gs::registry {
namespace {

// The partial file opened for appending; tracks its size and an optional hash.
class PartialFile {
 public:
  static Result<PartialFile> open(const std::filesystem::path& path, bool hash) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Error("cannot open {}: {}", path.string(), std::strerror(errno));
    PartialFile file(fd, path, hash);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Error("cannot stat {}: {}", path.string(), std::strerror(errno));
    file.size_ = static_cast<uint64_t>(st.st_size);
    if (hash) GS_RETURN_IF_ERROR(file.hash_existing());
    return file;
  }
  PartialFile(PartialFile&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        path_(std::move(other.path_)),
        size_(other.size_),
        hasher_(std::move(other.hasher_)) {}
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  uint64_t size() const { return size_; }
  Status truncate() {
    if (::ftruncate(fd_, 0) != 0)
      return Error("cannot truncate {}: {}", path_.string(), std::strerror(errno));
    size_ = 0;
    if (hasher_) hasher_.emplace();
    return Status::Ok();
  }
  Status append(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error("writing {}: {}", path_.string(), std::strerror(errno));
      if (hasher_) hasher_->update(bytes.data(), static_cast<size_t>(n));
      size_ += static_cast<uint64_t>(n);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  std::string digest() { return hasher_ ? hasher_->finish() : std::string(); }

 private:
  PartialFile(int fd, std::filesystem::path path, bool hash) : fd_(fd), path_(std::move(path)) {
    if (hash) hasher_.emplace();
  }
  // A resumed download hashes what is already on disk first.
  Status hash_existing() {
    std::vector<char> buffer(1 << 20);
    for (off_t at = 0;;) {
      const ssize_t n = ::pread(fd_, buffer.data(), buffer.size(), at);
      if (n < 0) return Error("reading {}: {}", path_.string(), std::strerror(errno));
      if (n == 0) return Status::Ok();
      hasher_->update(buffer.data(), static_cast<size_t>(n));
      at += n;
    }
  }

  int fd_ = -1;
  std::filesystem::path path_;
  uint64_t size_ = 0;
  std::optional<store::Sha256> hasher_;
};

}  // namespace

std::string range_header(uint64_t have) {
  return have == 0 ? std::string() : fmt::format("Range: bytes={}-", have);
}

Result<Downloaded> download_resumable(Session& session, const DownloadSpec& spec) {
  GS_ASSIGN_OR_RETURN(PartialFile file, PartialFile::open(spec.partial, spec.hash));
  if (spec.expected_size && file.size() > *spec.expected_size) GS_RETURN_IF_ERROR(file.truncate());
  const uint64_t total = spec.expected_size.value_or(0);
  if (spec.expected_size && file.size() == *spec.expected_size) {
    if (spec.on_progress) spec.on_progress(file.size(), total);
    return Downloaded{file.size(), file.digest()};
  }
  // The starting point (what a resume already has) lets progress show the speed of this transfer.
  if (spec.on_progress) spec.on_progress(file.size(), total);
  Status write_error;
  auto last_report = std::chrono::steady_clock::now();
  for (int range_retries = 0;; ++range_retries) {
    auto response = session.send([&] {
      HttpRequest request = make_request("GET", spec.url, spec.headers);
      request.follow_redirects = true;
      const std::string range = range_header(file.size());
      if (!range.empty()) request.headers.push_back(range);
      bool first = true;
      request.on_body = [&, first](long status, std::string_view bytes) mutable {
        if (first && status == 200 && file.size() > 0) {
          write_error = file.truncate();  // the server ignored Range: start over
          if (!write_error.ok()) return false;
        }
        first = false;
        if (spec.expected_size && file.size() + bytes.size() > *spec.expected_size) {
          write_error = Error("{} sent more than the {} bytes declared", spec.url, *spec.expected_size);
          return false;
        }
        write_error = file.append(bytes);
        const auto now = std::chrono::steady_clock::now();
        if (spec.on_progress && now - last_report > std::chrono::milliseconds(200)) {
          last_report = now;
          spec.on_progress(file.size(), total);
        }
        return write_error.ok();
      };
      return request;
    });
    if (!write_error.ok()) return write_error;
    if (!response.ok()) return response.status();
    // 416: the partial is not a prefix the server can continue (it changed); start once more from zero.
    if (response->status == 416 && range_retries == 0) {
      GS_RETURN_IF_ERROR(file.truncate());
      continue;
    }
    if (response->status != 200 && response->status != 206) {
      return session.status_error("downloading " + spec.url, *response);
    }
    break;
  }
  if (spec.expected_size && file.size() != *spec.expected_size) {
    return Error("download of {} ended at {} of {} bytes", spec.url, file.size(), *spec.expected_size);
  }
  if (spec.on_progress) spec.on_progress(file.size(), total);
  return Downloaded{file.size(), file.digest()};
}

}  // namespace gs::registry
