// libFuzzer target for the GGUF reader: any input must yield either a clean
// one-line error or a File whose every tensor and value can be touched
// without leaving the input buffer (ASan checks the bounds).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "gguf/gguf.h"
#include "gguf/inspect.h"

namespace {

volatile uint64_t g_sink;  // keeps the reads below from being optimized away

void touch(const gs::gguf::Value& v) {
  uint64_t acc = static_cast<uint64_t>(v.integer) + static_cast<uint64_t>(v.number != 0) + v.string.size();
  for (int64_t i : v.integers) acc += static_cast<uint64_t>(i);
  for (double d : v.numbers) acc += d > 0;
  for (const std::string& s : v.strings) acc += s.size();
  for (const gs::gguf::Value& a : v.arrays) touch(a);
  g_sink = g_sink + acc + v.array_size();
}

// Every error is one non-empty line.
void check_one_line(const gs::Status& s) {
  if (!s.ok() && (s.message().empty() || s.message().find('\n') != std::string::npos)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = gs::gguf::File::parse(data, size);
  if (!file.ok()) {
    check_one_line(file.status());
    return 0;
  }
  const gs::gguf::File& f = **file;
  for (const auto& [key, value] : f.metadata()) {
    touch(value);
    if (f.find(key) != &value) std::abort();  // keys are unique
    check_one_line(f.get_int(key).status());
    check_one_line(f.get_float(key).status());
    check_one_line(f.get_bool(key).status());
    check_one_line(f.get_string(key).status());
  }
  for (const gs::gguf::TensorInfo& t : f.tensors()) {
    if (f.tensor(t.name) != &t) std::abort();  // names are unique
    if (t.size_bytes == 0 || t.data < data || t.data + t.size_bytes > data + size) std::abort();
    g_sink = g_sink + t.data[0] + t.data[t.size_bytes - 1] + static_cast<uint64_t>(t.rows());
  }
  g_sink = g_sink + gs::gguf::describe_gguf(f, true).size() + gs::gguf::describe_gguf_json(f).size();
  return 0;
}
