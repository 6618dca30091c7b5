// GGUF reader: a bounds-checked cursor over the (mapped) bytes and a parser
// that validates everything a later stage would otherwise trust blindly.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <system_error>
#include <unordered_set>

#include "gguf/gguf.h"
#include "gguf/gguf_internal.h"

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace gs::gguf {

using internal::printable;

namespace {

constexpr int kMaxArrayDepth = 8;
// No real vocabulary or merge list comes near this; it bounds the memory a
// forged count can make us allocate (8 bytes per element in memory).
constexpr uint64_t kMaxArrayLength = uint64_t{1} << 24;
// Arrays whose elements cost more memory than their encoding reserve at most
// this many up front and grow only as elements are really read.
constexpr uint64_t kGrowthStep = 4096;
// Smallest possible encodings, used to reject counts the file cannot hold.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, 1 dim, type, offset

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }
  void skip(size_t n) { pos_ += n; }  // only after need(n) succeeded

  Status need(uint64_t n, std::string_view what) const {
    if (n <= remaining()) return Status::Ok();
    return Error("truncated file: {} needs {} bytes at offset {}, {} left", what, n, pos_, remaining());
  }

  template <typename T>
  Status read(T* out, std::string_view what) {
    GS_RETURN_IF_ERROR(need(sizeof(T), what));
    std::memcpy(out, here(), sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }

  Status read_string(std::string* out, std::string_view what) {
    uint64_t len = 0;
    GS_RETURN_IF_ERROR(read(&len, what));
    if (len > remaining()) {
      return Error("{} length {} at offset {} exceeds the {} bytes left in the file", what, len, pos_ - 8,
                   remaining());
    }
    out->assign(reinterpret_cast<const char*>(here()), len);
    pos_ += len;
    return Status::Ok();
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Reads one scalar of the given integer type, widened to int64 (uint64 keeps
// its bit pattern).
int64_t load_integer(const uint8_t* p, ValueType type) {
  auto load = [p]<typename T>(T) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return static_cast<int64_t>(v);
  };
  switch (type) {
    case ValueType::UINT8:
      return load(uint8_t{});
    case ValueType::INT8:
      return load(int8_t{});
    case ValueType::UINT16:
      return load(uint16_t{});
    case ValueType::INT16:
      return load(int16_t{});
    case ValueType::UINT32:
      return load(uint32_t{});
    case ValueType::INT32:
      return load(int32_t{});
    case ValueType::UINT64:
      return load(uint64_t{});
    case ValueType::INT64:
      return load(int64_t{});
    default:
      return 0;
  }
}

double load_number(const uint8_t* p, ValueType type) {
  if (type == ValueType::FLOAT32) {
    float f;
    std::memcpy(&f, p, sizeof f);
    return f;
  }
  double d;
  std::memcpy(&d, p, sizeof d);
  return d;
}

std::string type_description(const Value& v) {
  if (v.type != ValueType::ARRAY) return std::string(value_type_name(v.type));
  return fmt::format("array of {}", value_type_name(v.array_type));
}

}  // namespace

class Parser {
 public:
  explicit Parser(File* file) : file_(*file), cur_(file->base_, file->size_) {}

  Status run() {
    uint64_t n_tensors = 0, n_kv = 0;
    GS_RETURN_IF_ERROR(read_header(&n_tensors, &n_kv));
    GS_RETURN_IF_ERROR(read_metadata(n_kv));
    GS_RETURN_IF_ERROR(read_alignment());
    GS_RETURN_IF_ERROR(read_tensor_infos(n_tensors));
    return place_tensors();
  }

 private:
  Status read_header(uint64_t* n_tensors, uint64_t* n_kv);
  Status read_metadata(uint64_t n_kv);
  Status read_value(uint32_t raw_type, Value* out, int depth);
  Status read_array(Value* out, int depth);
  Status read_alignment();
  Status read_tensor_infos(uint64_t n_tensors);
  Status read_tensor_info(TensorInfo* t);
  Status place_tensors();

  File& file_;
  Cursor cur_;
};

Status Parser::read_header(uint64_t* n_tensors, uint64_t* n_kv) {
  uint32_t magic = 0, version = 0;
  GS_RETURN_IF_ERROR(cur_.read(&magic, "magic"));
  if (magic != internal::kMagic) {
    return Error("bad magic 0x{:08x}: not a GGUF file (expected \"GGUF\")", __builtin_bswap32(magic));
  }
  GS_RETURN_IF_ERROR(cur_.read(&version, "version"));
  if (version == 1) return Error("GGUF version 1 is not supported (only versions 2 and 3)");
  if (version != 2 && version != 3) {
    uint32_t swapped = __builtin_bswap32(version);
    if (swapped == 2 || swapped == 3) return Error("big-endian GGUF files are not supported");
    return Error("unsupported GGUF version {} (only versions 2 and 3)", version);
  }
  file_.version_ = version;
  GS_RETURN_IF_ERROR(cur_.read(n_tensors, "tensor count"));
  GS_RETURN_IF_ERROR(cur_.read(n_kv, "metadata count"));
  // Each count alone fits in 2^64 / 32, so neither product below overflows.
  uint64_t left = cur_.remaining();
  if (*n_kv > left / kMinKvBytes) {
    return Error("metadata count {} is impossible for a file of {} bytes", *n_kv, file_.size_);
  }
  if (*n_tensors > left / kMinTensorInfoBytes) {
    return Error("tensor count {} is impossible for a file of {} bytes", *n_tensors, file_.size_);
  }
  if (*n_kv * kMinKvBytes + *n_tensors * kMinTensorInfoBytes > left) {
    return Error("{} metadata entries and {} tensors cannot fit in a file of {} bytes", *n_kv, *n_tensors,
                 file_.size_);
  }
  return Status::Ok();
}

Status Parser::read_metadata(uint64_t n_kv) {
  std::unordered_set<std::string> seen;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    Status s = cur_.read_string(&key, "key");
    if (!s.ok()) return s.with_context(fmt::format("metadata entry #{}", i));
    if (!seen.insert(key).second) return Error("duplicate metadata key '{}'", printable(key));
    uint32_t raw_type = 0;
    Value value;
    s = cur_.read(&raw_type, "value type");
    if (s.ok()) s = read_value(raw_type, &value, 0);
    if (!s.ok()) return s.with_context(fmt::format("metadata key '{}'", printable(key)));
    file_.metadata_.emplace_back(std::move(key), std::move(value));
  }
  return Status::Ok();
}

Status Parser::read_value(uint32_t raw_type, Value* out, int depth) {
  if (!internal::is_valid_value_type(raw_type)) return Error("unknown value type {}", raw_type);
  auto type = static_cast<ValueType>(raw_type);
  out->type = type;
  if (type == ValueType::STRING) return cur_.read_string(&out->string, "string");
  if (type == ValueType::ARRAY) return read_array(out, depth + 1);
  size_t n = internal::scalar_size(raw_type);
  GS_RETURN_IF_ERROR(cur_.need(n, value_type_name(type)));
  if (type == ValueType::FLOAT32 || type == ValueType::FLOAT64) {
    out->number = load_number(cur_.here(), type);
  } else if (type == ValueType::BOOL) {
    uint8_t b = *cur_.here();
    if (b > 1) return Error("bool value {} at offset {} is not 0 or 1", b, cur_.pos());
    out->integer = b;
  } else {
    out->integer = load_integer(cur_.here(), type);
  }
  cur_.skip(n);
  return Status::Ok();
}

Status Parser::read_array(Value* out, int depth) {
  if (depth > kMaxArrayDepth) return Error("arrays nested deeper than {}", kMaxArrayDepth);
  uint32_t raw_elem = 0;
  uint64_t count = 0;
  GS_RETURN_IF_ERROR(cur_.read(&raw_elem, "array element type"));
  GS_RETURN_IF_ERROR(cur_.read(&count, "array length"));
  if (!internal::is_valid_value_type(raw_elem)) return Error("unknown array element type {}", raw_elem);
  auto elem = static_cast<ValueType>(raw_elem);
  out->array_type = elem;
  // Check the count against the bytes left before allocating anything for it.
  size_t fixed = internal::scalar_size(raw_elem);
  uint64_t min_elem = fixed ? fixed : (elem == ValueType::STRING ? 8 : 4 + 8);
  if (count > cur_.remaining() / min_elem) {
    return Error("array of {} {} values exceeds the {} bytes left in the file", count, value_type_name(elem),
                 cur_.remaining());
  }
  if (count > kMaxArrayLength)
    return Error("array length {} exceeds the limit of {}", count, kMaxArrayLength);

  // Strings and nested arrays cost far more in memory than their smallest
  // encoding, so they grow as elements are actually read rather than up front.
  if (elem == ValueType::STRING) {
    out->strings.reserve(std::min<uint64_t>(count, kGrowthStep));
    for (uint64_t i = 0; i < count; ++i) {
      GS_RETURN_IF_ERROR(cur_.read_string(&out->strings.emplace_back(), "array string"));
    }
  } else if (elem == ValueType::ARRAY) {
    out->arrays.reserve(std::min<uint64_t>(count, kGrowthStep));
    for (uint64_t i = 0; i < count; ++i) {
      GS_RETURN_IF_ERROR(read_value(raw_elem, &out->arrays.emplace_back(), depth));
    }
  } else if (elem == ValueType::FLOAT32 || elem == ValueType::FLOAT64) {
    out->numbers.resize(count);
    for (uint64_t i = 0; i < count; ++i) out->numbers[i] = load_number(cur_.here() + i * fixed, elem);
    cur_.skip(count * fixed);
  } else {
    out->integers.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      const uint8_t* p = cur_.here() + i * fixed;
      if (elem == ValueType::BOOL && *p > 1) return Error("bool array element {} is {}, not 0 or 1", i, *p);
      out->integers[i] = elem == ValueType::BOOL ? *p : load_integer(p, elem);
    }
    cur_.skip(count * fixed);
  }
  return Status::Ok();
}

Status Parser::read_alignment() {
  const Value* v = file_.find(internal::kAlignmentKey);
  if (!v) return Status::Ok();
  if (v->type != ValueType::UINT32) {
    return Error("{} has type {}, expected uint32", internal::kAlignmentKey, type_description(*v));
  }
  auto alignment = static_cast<uint64_t>(v->integer);
  if (!internal::is_power_of_two(alignment)) {
    return Error("{} is {}, must be a nonzero power of two", internal::kAlignmentKey, alignment);
  }
  file_.alignment_ = alignment;
  return Status::Ok();
}

Status Parser::read_tensor_infos(uint64_t n_tensors) {
  std::unordered_set<std::string> seen;
  file_.tensors_.reserve(std::min<uint64_t>(n_tensors, 1 << 16));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    Status s = cur_.read_string(&t.name, "tensor name");
    if (!s.ok()) return s.with_context(fmt::format("tensor #{}", i));
    if (!seen.insert(t.name).second) return Error("duplicate tensor name '{}'", printable(t.name));
    s = read_tensor_info(&t);
    if (!s.ok()) return s.with_context(fmt::format("tensor '{}'", printable(t.name)));
    file_.tensors_.push_back(std::move(t));
  }
  return Status::Ok();
}

Status Parser::read_tensor_info(TensorInfo* t) {
  uint32_t n_dims = 0;
  GS_RETURN_IF_ERROR(cur_.read(&n_dims, "dimension count"));
  if (n_dims == 0 || n_dims > internal::kMaxDims) {
    return Error("{} dimensions (expected 1 to {})", n_dims, internal::kMaxDims);
  }
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t dim = 0;
    GS_RETURN_IF_ERROR(cur_.read(&dim, "dimension"));
    t->dims.push_back(static_cast<int64_t>(dim));  // >= 2^63 shows up as negative
  }
  uint32_t raw_type = 0;
  GS_RETURN_IF_ERROR(cur_.read(&raw_type, "tensor type"));
  GS_RETURN_IF_ERROR(cur_.read(&t->offset, "tensor offset"));
  std::optional<TypeTraits> traits = type_traits(raw_type);
  if (!traits) return Error("unknown tensor type {}", raw_type);
  t->type = traits->type;
  GS_ASSIGN_OR_RETURN(t->size_bytes, tensor_data_bytes(t->type, t->dims));
  if (t->offset % file_.alignment_ != 0) {
    return Error("data offset {} is not a multiple of the alignment {}", t->offset, file_.alignment_);
  }
  return Status::Ok();
}

Status Parser::place_tensors() {
  // Alignment is at most 2^31 and pos at most the file size: no overflow.
  file_.data_offset_ = internal::align_up(cur_.pos(), file_.alignment_);
  auto& tensors = file_.tensors_;
  if (tensors.empty()) return Status::Ok();
  if (file_.data_offset_ > file_.size_) {
    return Error("truncated file: tensor data would start at offset {}, past the end ({} bytes)",
                 file_.data_offset_, file_.size_);
  }
  uint64_t avail = file_.size_ - file_.data_offset_;
  for (TensorInfo& t : tensors) {
    if (t.offset > avail || t.size_bytes > avail - t.offset) {
      return Error("tensor '{}': data [{}, +{}) extends past the end of the file ({} bytes of tensor data)",
                   printable(t.name), t.offset, t.size_bytes, avail);
    }
    t.data = file_.base_ + file_.data_offset_ + t.offset;
  }
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(tensors.size());
  for (const TensorInfo& t : tensors) by_offset.push_back(&t);
  // Stable, so that messages name overlapping tensors in file order.
  std::stable_sort(by_offset.begin(), by_offset.end(),
                   [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& a = *by_offset[i - 1];
    const TensorInfo& b = *by_offset[i];
    if (a.offset + a.size_bytes > b.offset) {
      return Error("tensors '{}' and '{}' overlap (data at [{}, {}) and [{}, {}))", printable(a.name),
                   printable(b.name), a.offset, a.offset + a.size_bytes, b.offset, b.offset + b.size_bytes);
    }
  }
  return Status::Ok();
}

// ---- File --------------------------------------------------------------------

Result<std::unique_ptr<File>> File::parse(const uint8_t* bytes, size_t size) {
  std::unique_ptr<File> file(new File());
  file->base_ = bytes;
  file->size_ = bytes ? size : 0;
  GS_RETURN_IF_ERROR(Parser(file.get()).run());
  return file;
}

Result<std::unique_ptr<File>> File::open(const std::string& path) {
  auto sys_error = [&path](std::string_view what) {
    return Error("{}: {}: {}", path, what, std::error_code(errno, std::generic_category()).message());
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = sys_error("cannot stat");
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error("{}: not a regular file", path);
  }
  if (st.st_size == 0) {
    ::close(fd);
    return Error("{}: empty file, not a GGUF file", path);
  }
  auto size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  Status map_error = map == MAP_FAILED ? sys_error("cannot map") : Status::Ok();
  ::close(fd);  // the mapping keeps the file alive
  GS_RETURN_IF_ERROR(map_error);

  std::unique_ptr<File> file(new File());
  file->base_ = static_cast<const uint8_t*>(map);
  file->size_ = size;
  file->owns_mapping_ = true;
  Status s = Parser(file.get()).run();
  if (!s.ok()) return s.with_context(path);
  return file;
}

File::~File() {
  if (owns_mapping_ && base_) ::munmap(const_cast<uint8_t*>(base_), size_);
}

const Value* File::find(std::string_view key) const {
  for (const auto& [k, v] : metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

const TensorInfo* File::tensor(std::string_view name) const {
  for (const TensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// ---- typed getters -------------------------------------------------------------

namespace {

Status missing(std::string_view key) { return Error("missing metadata key '{}'", printable(key)); }

Status mistyped(std::string_view key, const Value& v, std::string_view expected) {
  return Error("metadata key '{}' has type {}, expected {}", printable(key), type_description(v), expected);
}

Result<int64_t> as_int(std::string_view key, const Value& v) {
  if (!internal::is_integer_type(static_cast<uint32_t>(v.type))) return mistyped(key, v, "integer");
  if (v.type == ValueType::UINT64 && v.integer < 0) {
    return Error("metadata key '{}' value {} does not fit in int64", printable(key),
                 static_cast<uint64_t>(v.integer));
  }
  return v.integer;
}

Result<double> as_float(std::string_view key, const Value& v) {
  if (v.type == ValueType::FLOAT32 || v.type == ValueType::FLOAT64) return v.number;
  if (v.type == ValueType::UINT64) return static_cast<double>(static_cast<uint64_t>(v.integer));
  if (internal::is_integer_type(static_cast<uint32_t>(v.type))) return static_cast<double>(v.integer);
  return mistyped(key, v, "float");
}

Result<bool> as_bool(std::string_view key, const Value& v) {
  if (v.type != ValueType::BOOL) return mistyped(key, v, "bool");
  return v.integer != 0;
}

}  // namespace

Result<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  if (v->type != ValueType::STRING) return mistyped(key, *v, "string");
  return v->string;
}

Result<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  return as_int(key, *v);
}

Result<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  return as_float(key, *v);
}

Result<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  return as_bool(key, *v);
}

Result<int64_t> File::get_int_or(std::string_view key, int64_t fallback) const {
  const Value* v = find(key);
  return v ? as_int(key, *v) : Result<int64_t>(fallback);
}

Result<double> File::get_float_or(std::string_view key, double fallback) const {
  const Value* v = find(key);
  return v ? as_float(key, *v) : Result<double>(fallback);
}

Result<bool> File::get_bool_or(std::string_view key, bool fallback) const {
  const Value* v = find(key);
  return v ? as_bool(key, *v) : Result<bool>(fallback);
}

}  // namespace gs::gguf
