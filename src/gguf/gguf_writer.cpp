// GGUF v3 writer. The header is encoded in memory; tensor data is streamed
// from the caller's buffers into a temporary file that replaces the target
// only once it is complete and on disk.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>
#include <unordered_set>

#include "gguf/gguf.h"
#include "gguf/gguf_internal.h"

namespace gs::gguf {

using internal::printable;

namespace {

constexpr int kMaxArrayDepth = 8;  // what the reader accepts

class ByteSink {
 public:
  template <typename T>
  void put(T v) {
    put_bytes(&v, sizeof v);
  }
  void put_bytes(const void* p, size_t n) {
    if (n == 0) return;
    size_t old = bytes_.size();
    bytes_.resize(old + n);
    std::memcpy(bytes_.data() + old, p, n);
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    put_bytes(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) { bytes_.resize(internal::align_up(bytes_.size(), alignment), 0); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

bool fits(ValueType type, int64_t v) {
  switch (type) {
    case ValueType::UINT8:
      return v >= 0 && v <= std::numeric_limits<uint8_t>::max();
    case ValueType::INT8:
      return v >= std::numeric_limits<int8_t>::min() && v <= std::numeric_limits<int8_t>::max();
    case ValueType::UINT16:
      return v >= 0 && v <= std::numeric_limits<uint16_t>::max();
    case ValueType::INT16:
      return v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<int16_t>::max();
    case ValueType::UINT32:
      return v >= 0 && v <= std::numeric_limits<uint32_t>::max();
    case ValueType::INT32:
      return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
    case ValueType::BOOL:
      return v == 0 || v == 1;
    default:
      return true;  // 64-bit types hold any int64 (uint64 as its bit pattern)
  }
}

// Writes one element of a scalar type; `integer`/`number` as Value holds them.
Status put_scalar(ByteSink& out, ValueType type, int64_t integer, double number) {
  if (type == ValueType::FLOAT32) {
    out.put(static_cast<float>(number));
  } else if (type == ValueType::FLOAT64) {
    out.put(number);
  } else {
    if (!fits(type, integer)) return Error("value {} does not fit in {}", integer, value_type_name(type));
    out.put_bytes(&integer, internal::scalar_size(static_cast<uint32_t>(type)));  // little-endian low bytes
  }
  return Status::Ok();
}

Status put_value(ByteSink& out, const Value& v, int depth);

Status put_array(ByteSink& out, const Value& v, int depth) {
  if (depth > kMaxArrayDepth) return Error("arrays nested deeper than {}", kMaxArrayDepth);
  auto raw = static_cast<uint32_t>(v.array_type);
  if (!internal::is_valid_value_type(raw)) return Error("unknown array element type {}", raw);
  out.put(raw);
  out.put<uint64_t>(v.array_size());
  switch (v.array_type) {
    case ValueType::STRING:
      for (const std::string& s : v.strings) out.put_string(s);
      return Status::Ok();
    case ValueType::ARRAY:
      for (const Value& e : v.arrays) {
        if (e.type != ValueType::ARRAY) return Error("element of an array of arrays is not an array");
        GS_RETURN_IF_ERROR(put_array(out, e, depth + 1));
      }
      return Status::Ok();
    case ValueType::FLOAT32:
    case ValueType::FLOAT64:
      for (double d : v.numbers) GS_RETURN_IF_ERROR(put_scalar(out, v.array_type, 0, d));
      return Status::Ok();
    default:
      for (int64_t i : v.integers) GS_RETURN_IF_ERROR(put_scalar(out, v.array_type, i, 0));
      return Status::Ok();
  }
}

Status put_value(ByteSink& out, const Value& v, int depth) {
  auto raw = static_cast<uint32_t>(v.type);
  if (!internal::is_valid_value_type(raw)) return Error("unknown value type {}", raw);
  out.put(raw);
  if (v.type == ValueType::STRING) {
    out.put_string(v.string);
    return Status::Ok();
  }
  if (v.type == ValueType::ARRAY) return put_array(out, v, depth + 1);
  return put_scalar(out, v.type, v.integer, v.number);
}

// A file descriptor for the temporary file: closed and unlinked unless the
// write got as far as renaming it into place.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  Status create() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd_ < 0 ? sys_error("cannot create") : Status::Ok();
  }
  Status write_all(const void* data, size_t n) {
    auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return sys_error("write failed");
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::Ok();
  }
  Status write_zeros(size_t n) {
    static constexpr uint8_t kZeros[4096] = {};
    while (n > 0) {
      size_t chunk = std::min(n, sizeof kZeros);
      GS_RETURN_IF_ERROR(write_all(kZeros, chunk));
      n -= chunk;
    }
    return Status::Ok();
  }
  Status sync_and_close() {
    if (::fsync(fd_) != 0) return sys_error("fsync failed");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return sys_error("close failed");
    return Status::Ok();
  }
  Status rename_to(const std::string& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0) return sys_error("cannot rename into place");
    committed_ = true;
    return Status::Ok();
  }

 private:
  Status sys_error(std::string_view what) const {
    return Error("{} {}: {}", what, path_, std::error_code(errno, std::generic_category()).message());
  }
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

// The rename is only durable once the directory entry is on disk too.
Status sync_directory(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error("cannot open directory {}: {}", dir, std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Error("fsync of directory {} failed: {}", dir, std::strerror(err));
  return Status::Ok();
}

}  // namespace

void Writer::set(std::string key, Value value) {
  if (key == internal::kAlignmentKey && value.type == ValueType::UINT32 && value.integer > 0) {
    alignment_ = static_cast<uint64_t>(value.integer);
  }
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void Writer::add_tensor(std::string name, GgmlType type, std::vector<int64_t> dims, const void* data,
                        size_t size_bytes) {
  tensors_.push_back({std::move(name), type, std::move(dims), data, size_bytes});
}

Status Writer::check_alignment() const {
  if (!internal::is_power_of_two(alignment_) || alignment_ > std::numeric_limits<uint32_t>::max()) {
    return Error("alignment {} is not a power of two that fits in uint32", alignment_);
  }
  const Value* declared = nullptr;
  for (const auto& [k, v] : metadata_) {
    if (k == internal::kAlignmentKey) declared = &v;
  }
  if (!declared) {
    if (alignment_ == internal::kDefaultAlignment) return Status::Ok();
    // Readers would assume 32 and misplace the data section.
    return Error("alignment {} needs the metadata key {} (readers assume {})", alignment_,
                 internal::kAlignmentKey, internal::kDefaultAlignment);
  }
  if (declared->type != ValueType::UINT32 || static_cast<uint64_t>(declared->integer) != alignment_) {
    return Error("metadata key {} does not hold the writer's alignment {} as uint32", internal::kAlignmentKey,
                 alignment_);
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> Writer::encode_header() const {
  GS_RETURN_IF_ERROR(check_alignment());
  ByteSink out;
  out.put(internal::kMagic);
  out.put<uint32_t>(3);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    out.put_string(key);
    Status s = put_value(out, value, 0);
    if (!s.ok()) return s.with_context(fmt::format("metadata key '{}'", printable(key)));
  }
  std::unordered_set<std::string_view> names;
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    if (!names.insert(t.name).second) return Error("duplicate tensor name '{}'", printable(t.name));
    Result<uint64_t> bytes = tensor_data_bytes(t.type, t.dims);
    if (!bytes.ok()) return bytes.status().with_context(fmt::format("tensor '{}'", printable(t.name)));
    if (*bytes != t.size_bytes || (t.size_bytes > 0 && t.data == nullptr)) {
      return Error("tensor '{}': {} bytes of data given, its shape needs {}", printable(t.name),
                   t.data ? t.size_bytes : 0, *bytes);
    }
    out.put_string(t.name);
    out.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) out.put<uint64_t>(static_cast<uint64_t>(d));
    out.put(static_cast<uint32_t>(t.type));
    out.put<uint64_t>(offset);
    offset = internal::align_up(offset + t.size_bytes, alignment_);
  }
  out.pad_to(alignment_);
  return out.bytes();
}

Status Writer::write(const std::string& path) const {
  auto fail = [&path](const Status& s) { return s.with_context("writing " + path); };
  Result<std::vector<uint8_t>> header = encode_header();
  if (!header.ok()) return fail(header.status());

  TempFile tmp(fmt::format("{}.tmp-{}", path, ::getpid()));
  Status s = tmp.create();
  if (s.ok()) s = tmp.write_all(header->data(), header->size());
  for (size_t i = 0; i < tensors_.size() && s.ok(); ++i) {
    const PendingTensor& t = tensors_[i];
    s = tmp.write_all(t.data, t.size_bytes);
    size_t pad = internal::align_up(t.size_bytes, alignment_) - t.size_bytes;
    if (s.ok()) s = tmp.write_zeros(pad);
  }
  if (s.ok()) s = tmp.sync_and_close();
  if (s.ok()) s = tmp.rename_to(path);
  if (s.ok()) s = sync_directory(path);
  return fail(s);
}

}  // namespace gs::gguf
