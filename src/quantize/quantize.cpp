// `genstack quantize`: every tensor goes through f32 (dequantize_row) into
// its planned type (quantize_row), row by row, rows split across threads.
// Tensors that keep their type are copied byte for byte from the mapping.
#include "quantize/quantize.h"

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "gguf/gguf.h"
#include "quantize/plan.h"
#include "tensor/quants.h"

namespace gs {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // ggml's GGML_QNT_VERSION
constexpr int64_t kMinRowsPerThread = 16;     // below this a thread costs more than it saves

bool is_float_type(GgmlType type) {
  return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
}

// Re-quantizing compounds two roundings, so it needs the user's consent.
// Tensors that keep their quantized type are only copied and need none.
Status check_requantize(const gguf::File& in, const std::vector<GgmlType>& types, bool allowed) {
  if (allowed) return Status::Ok();
  for (size_t i = 0; i < types.size(); ++i) {
    const GgmlType from = in.tensors()[i].type;
    if (!is_float_type(from) && from != types[i]) {
      return Error("input is already quantized ({}); pass --allow-requantize", traits(from).name);
    }
  }
  return Status::Ok();
}

// Calls fn(begin, end) on contiguous row ranges, one per thread.
template <typename Fn>
void for_row_ranges(int64_t rows, int n_threads, Fn fn) {
  const int64_t n = std::clamp<int64_t>(rows / kMinRowsPerThread, 1, n_threads);
  const int64_t per = (rows + n - 1) / n;
  std::vector<std::thread> workers;
  for (int64_t t = 1; t < n; ++t) {
    workers.emplace_back(fn, std::min(rows, t * per), std::min(rows, (t + 1) * per));
  }
  fn(int64_t{0}, std::min(rows, per));
  for (std::thread& w : workers) w.join();
}

std::vector<uint8_t> convert_tensor(const gguf::TensorInfo& t, GgmlType to, int n_threads) {
  const int64_t cols = t.dims[0], rows = t.rows();
  const size_t in_row = row_bytes(t.type, cols), out_row = row_bytes(to, cols);
  std::vector<uint8_t> out(out_row * static_cast<size_t>(rows));
  for_row_ranges(rows, n_threads, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = begin; r < end; ++r) {
      // Via a copy even for F32 input: the mapping gives no alignment promise.
      dequantize_row(t.type, t.data + static_cast<size_t>(r) * in_row, row.data(), cols);
      quantize_row(to, row.data(), out.data() + static_cast<size_t>(r) * out_row, cols);
    }
  });
  return out;
}

}  // namespace

Status quantize_file(const std::string& input, const std::string& output, const QuantizeOptions& options) {
  GS_ASSIGN_OR_RETURN(const quant::Target target, quant::parse_target(options.target));
  GS_ASSIGN_OR_RETURN(std::unique_ptr<gguf::File> in, gguf::File::open(input));
  const std::vector<GgmlType> types = quant::plan_types(*in, target);
  GS_RETURN_IF_ERROR(check_requantize(*in, types, options.allow_requantize).with_context(input));
  const int n_threads = options.n_threads > 0 ? options.n_threads : physical_core_count();

  gguf::Writer writer;
  for (const auto& [key, value] : in->metadata()) writer.set(key, value);
  writer.set("general.quantization_version", gguf::Value::u32(kQuantizationVersion));
  writer.set("general.file_type", gguf::Value::u32(target.ftype));

  // The writer references tensor data until write() returns.
  std::vector<std::vector<uint8_t>> converted(in->tensors().size());
  for (size_t i = 0; i < in->tensors().size(); ++i) {
    const gguf::TensorInfo& t = in->tensors()[i];
    if (types[i] == t.type) {
      writer.add_tensor(t.name, t.type, t.dims, t.data, t.size_bytes);
      continue;
    }
    converted[i] = convert_tensor(t, types[i], n_threads);
    writer.add_tensor(t.name, types[i], t.dims, converted[i].data(), converted[i].size());
  }
  return writer.write(output);
}

}  // namespace gs
