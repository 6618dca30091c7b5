// Metadata values and tensor infos: the small pieces shared by reader, writer
// and inspector.
#include <limits>

#include <fmt/ranges.h>

#include "gguf/gguf.h"
#include "gguf/gguf_internal.h"

namespace gs::gguf {

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::UINT8:
      return "uint8";
    case ValueType::INT8:
      return "int8";
    case ValueType::UINT16:
      return "uint16";
    case ValueType::INT16:
      return "int16";
    case ValueType::UINT32:
      return "uint32";
    case ValueType::INT32:
      return "int32";
    case ValueType::FLOAT32:
      return "float32";
    case ValueType::BOOL:
      return "bool";
    case ValueType::STRING:
      return "string";
    case ValueType::ARRAY:
      return "array";
    case ValueType::UINT64:
      return "uint64";
    case ValueType::INT64:
      return "int64";
    case ValueType::FLOAT64:
      return "float64";
  }
  return "unknown";
}

size_t Value::array_size() const {
  if (type != ValueType::ARRAY) return 0;
  switch (array_type) {
    case ValueType::STRING:
      return strings.size();
    case ValueType::ARRAY:
      return arrays.size();
    case ValueType::FLOAT32:
    case ValueType::FLOAT64:
      return numbers.size();
    default:
      return integers.size();
  }
}

Value Value::u32(uint32_t v) {
  Value out;
  out.type = ValueType::UINT32;
  out.integer = v;
  return out;
}

Value Value::i32(int32_t v) {
  Value out;
  out.type = ValueType::INT32;
  out.integer = v;
  return out;
}

Value Value::u64(uint64_t v) {
  Value out;
  out.type = ValueType::UINT64;
  out.integer = static_cast<int64_t>(v);  // bit pattern kept, see the header
  return out;
}

Value Value::f32(float v) {
  Value out;
  out.type = ValueType::FLOAT32;
  out.number = v;
  return out;
}

Value Value::boolean(bool v) {
  Value out;
  out.type = ValueType::BOOL;
  out.integer = v ? 1 : 0;
  return out;
}

Value Value::str(std::string v) {
  Value out;
  out.type = ValueType::STRING;
  out.string = std::move(v);
  return out;
}

Value Value::string_array(std::vector<std::string> v) {
  Value out;
  out.type = ValueType::ARRAY;
  out.array_type = ValueType::STRING;
  out.strings = std::move(v);
  return out;
}

Value Value::f32_array(std::vector<double> v) {
  Value out;
  out.type = ValueType::ARRAY;
  out.array_type = ValueType::FLOAT32;
  out.numbers = std::move(v);
  return out;
}

Value Value::i32_array(std::vector<int64_t> v) {
  Value out;
  out.type = ValueType::ARRAY;
  out.array_type = ValueType::INT32;
  out.integers = std::move(v);
  return out;
}

int64_t TensorInfo::element_count() const {
  // The reader has rejected products that overflow; saturate for hand-built infos.
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d <= 0) return 0;
    if (n > std::numeric_limits<int64_t>::max() / d) return std::numeric_limits<int64_t>::max();
    n *= d;
  }
  return n;
}

Result<uint64_t> tensor_data_bytes(GgmlType type, const std::vector<int64_t>& dims) {
  if (dims.empty() || dims.size() > internal::kMaxDims) {
    return Error("{} dimensions (expected 1 to {})", dims.size(), internal::kMaxDims);
  }
  int64_t elements = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] <= 0) return Error("dimension {} is {} (must be positive)", i, dims[i]);
    if (__builtin_mul_overflow(elements, dims[i], &elements)) {
      return Error("element count overflows int64 (dims {})", fmt::join(dims, "x"));
    }
  }
  std::optional<TypeTraits> known = type_traits(static_cast<uint32_t>(type));
  if (!known) return Error("unknown tensor type {}", static_cast<uint32_t>(type));
  const TypeTraits& t = *known;
  if (dims[0] % t.block_size != 0) {
    return Error("row length {} is not a multiple of the {} block size {}", dims[0], t.name, t.block_size);
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(elements / t.block_size), t.block_bytes, &bytes)) {
    return Error("data size overflows (dims {})", fmt::join(dims, "x"));
  }
  return bytes;
}

namespace internal {

std::string printable(std::string_view s, size_t max_len) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max_len) {
      out += fmt::format("...({} bytes)", s.size());
      break;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

size_t scalar_size(uint32_t raw_type) {
  switch (static_cast<ValueType>(raw_type)) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL:
      return 1;
    case ValueType::UINT16:
    case ValueType::INT16:
      return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32:
      return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64:
      return 8;
    default:
      return 0;
  }
}

bool is_integer_type(uint32_t raw_type) {
  return is_valid_value_type(raw_type) && scalar_size(raw_type) != 0 &&
         raw_type != static_cast<uint32_t>(ValueType::BOOL) &&
         raw_type != static_cast<uint32_t>(ValueType::FLOAT32) &&
         raw_type != static_cast<uint32_t>(ValueType::FLOAT64);
}

bool is_valid_value_type(uint32_t raw_type) { return raw_type <= static_cast<uint32_t>(ValueType::FLOAT64); }

}  // namespace internal
}  // namespace gs::gguf
