// Attention of one query head over an f16 KV cache with AVX2 + F16C: cached
// halves are widened in registers, never converted into a separate buffer.
// Only intrinsics and this file's own code run here (see kernels.h on why
// ISA-flagged files must not instantiate shared inline functions).
#include <immintrin.h>
#include <math.h>

#include <cstddef>
#include <cstdint>

namespace gs::simd {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

__m256 load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

}  // namespace

// head_dim must be a multiple of 8.
void attend_f16_avx2(const float* q, const uint8_t* k, const uint8_t* v, size_t row_stride, int64_t offset,
                     int64_t head_dim, int64_t n_pos, float scale, float* scores, float* out) {
  float max_score = -INFINITY;
  for (int64_t p = 0; p < n_pos; ++p) {
    const uint16_t* kr = reinterpret_cast<const uint16_t*>(k + static_cast<size_t>(p) * row_stride) + offset;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= head_dim; i += 16) {
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_f16(kr + i), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load_f16(kr + i + 8), acc1);
    }
    if (i < head_dim) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_f16(kr + i), acc0);
    const float s = hsum(_mm256_add_ps(acc0, acc1)) * scale;
    scores[p] = s;
    if (s > max_score) max_score = s;
  }
  float sum = 0.0f;
  for (int64_t p = 0; p < n_pos; ++p) {
    scores[p] = expf(scores[p] - max_score);
    sum += scores[p];
  }
  const float inv_sum = 1.0f / sum;
  for (int64_t i = 0; i < head_dim; i += 8) _mm256_storeu_ps(out + i, _mm256_setzero_ps());
  for (int64_t p = 0; p < n_pos; ++p) {
    const uint16_t* vr = reinterpret_cast<const uint16_t*>(v + static_cast<size_t>(p) * row_stride) + offset;
    const __m256 w = _mm256_set1_ps(scores[p] * inv_sum);
    for (int64_t i = 0; i < head_dim; i += 8) {
      _mm256_storeu_ps(out + i, _mm256_fmadd_ps(w, load_f16(vr + i), _mm256_loadu_ps(out + i)));
    }
  }
}

}  // namespace gs::simd
