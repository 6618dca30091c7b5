#include "model/kv_cache.h"

#include "tensor/quants.h"

namespace gs {

Result<std::unique_ptr<KvCache>> KvCache::create(const ModelConfig& c, const KvCacheOptions& options) {
  if (options.type != GgmlType::F16 && options.type != GgmlType::F32 && options.type != GgmlType::Q8_0) {
    return Error("unsupported KV cache type '{}' (use f16, q8_0 or f32)", traits(options.type).name);
  }
  if (options.type == GgmlType::Q8_0 && c.head_dim % kQK != 0) {
    return Error("a q8_0 KV cache needs a head size divisible by 32 (this model has {})", c.head_dim);
  }
  if (options.n_blocks <= 0 || options.block_rows <= 0) return Error("KV cache needs at least one block");
  const int64_t rows = options.n_blocks * options.block_rows;
  if (rows > (int64_t{1} << 24)) return Error("KV cache of {} positions is too large", rows);
  std::unique_ptr<KvCache> cache(new KvCache());
  cache->n_blocks_ = options.n_blocks;
  cache->block_rows_ = options.block_rows;
  cache->type_ = options.type;
  cache->n_head_kv_ = c.n_head_kv;
  cache->head_dim_ = c.head_dim;
  cache->slice_bytes_ = gs::row_bytes(options.type, c.head_dim);
  const size_t total = cache->slice_bytes_ * static_cast<size_t>(rows * c.n_layer * c.n_head_kv);
  cache->k_.resize(total);
  cache->v_.resize(total);
  return cache;
}

}  // namespace gs
