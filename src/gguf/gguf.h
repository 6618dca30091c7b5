// GGUF files (v2 and v3): strict reading with tensor data memory-mapped, and
// writing. Spec: github.com/ggml-org/ggml/blob/master/docs/gguf.md
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tensor/types.h"

namespace gs::gguf {

enum class ValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
std::string_view value_type_name(ValueType type);

// One metadata value. Scalars fill exactly one of the scalar members (all
// integer types and bool in `integer`, FLOAT32/FLOAT64 in `number`); arrays
// fill one of the vectors according to `array_type`.
struct Value {
  ValueType type = ValueType::UINT32;
  ValueType array_type = ValueType::UINT32;  // element type when type == ARRAY

  int64_t integer = 0;  // UINT64 values above INT64_MAX keep their bit pattern
  double number = 0.0;
  std::string string;

  std::vector<int64_t> integers;     // arrays of integer types or bool
  std::vector<double> numbers;       // arrays of FLOAT32/FLOAT64
  std::vector<std::string> strings;  // arrays of STRING
  std::vector<Value> arrays;         // arrays of arrays

  size_t array_size() const;
  // Convenience constructors for writers and tests.
  static Value u32(uint32_t v);
  static Value i32(int32_t v);
  static Value u64(uint64_t v);
  static Value f32(float v);
  static Value boolean(bool v);
  static Value str(std::string v);
  static Value string_array(std::vector<std::string> v);
  static Value f32_array(std::vector<double> v);
  static Value i32_array(std::vector<int64_t> v);

  bool operator==(const Value&) const = default;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // dims[0] is the row length (fastest varying)
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t size_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping; valid while the file lives

  int64_t element_count() const;
  int64_t rows() const { return element_count() / (dims.empty() ? 1 : dims[0]); }
};

// Bytes of a tensor of `type` shaped `dims`: 1 to 4 positive dims whose
// product fits in int64, row length (dims[0]) a multiple of the block size.
// An error naming the problem otherwise.
Result<uint64_t> tensor_data_bytes(GgmlType type, const std::vector<int64_t>& dims);

class File {
 public:
  // Maps the file read-only and validates header, metadata and tensor table:
  // every failure is one line naming the problem (bad magic, unsupported
  // version, truncated, offset past end, overlapping tensors, ...).
  static Result<std::unique_ptr<File>> open(const std::string& path);
  // Parses a GGUF image held in memory (not copied; must outlive the File).
  static Result<std::unique_ptr<File>> parse(const uint8_t* bytes, size_t size);

  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of tensor data in the file
  size_t file_size() const { return size_; }

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(std::string_view name) const;

  // Typed metadata lookups with a clear error when missing or of the wrong type.
  Result<std::string> get_string(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;   // any integer type
  Result<double> get_float(std::string_view key) const;  // float or integer type
  Result<bool> get_bool(std::string_view key) const;
  // Same, with a default when the key is absent (an error still when mistyped).
  Result<int64_t> get_int_or(std::string_view key, int64_t fallback) const;
  Result<double> get_float_or(std::string_view key, double fallback) const;
  Result<bool> get_bool_or(std::string_view key, bool fallback) const;

 private:
  File() = default;
  friend class Parser;

  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  bool owns_mapping_ = false;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<TensorInfo> tensors_;
};

// Builds a GGUF v3 file. Tensor data is referenced, not copied: it must stay
// valid until write() returns.
class Writer {
 public:
  void set_alignment(uint64_t alignment) { alignment_ = alignment; }
  // Replaces an existing key in place, else appends (metadata keeps its order).
  // Setting "general.alignment" (uint32) also sets the alignment used.
  void set(std::string key, Value value);
  void add_tensor(std::string name, GgmlType type, std::vector<int64_t> dims, const void* data,
                  size_t size_bytes);
  // Writes atomically: a temporary file in the same directory, fsync, rename.
  Status write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> dims;
    const void* data;
    size_t size_bytes;
  };
  Status check_alignment() const;
  Result<std::vector<uint8_t>> encode_header() const;  // everything before the tensor data

  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace gs::gguf
