// AVX2 + FMA kernels for the float weights and the 32-element block formats.
// The K formats are in kernels_k_avx2.cpp.
//
// One ymm holds one block (32 bytes). vpmaddubsw multiplies unsigned weight
// bytes by signed activation bytes into int16 pairs, vpmaddwd with ones
// widens those to eight int32 lanes. As in the AVX-512 kernels the weights
// stay unsigned (q + offset, as stored) and the offset is taken back out
// through the activations: sum((q - off) * a) = sum(q * a) - off * sum(a),
// with off * sum(a) computed once per token and block. Q8_0 weights are
// signed and reach 127 * 127 per product, so they use the sign trick
// instead: |w| times a with w's sign.
#include <cstdint>

#include "tensor/kernels.h"

namespace gs::kern {
namespace {

float h2f(fp16_t h) { return _cvtsh_ss(h); }

__m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 16 bytes of nibbles (element j low in byte j, j + 16 high) to 32 bytes.
__m256i unpack_nibbles(const uint8_t* q) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(x, 4), x), _mm256_set1_epi8(0x0F));
}

// Adds 16 to element j when bit j of qh is set (Q5_0, Q5_1): copy byte j/8
// of qh into byte j, then test bit j%8 of it.
__m256i add_fifth_bits(__m256i q, const uint8_t* qh) {
  uint32_t bits;
  __builtin_memcpy(&bits, qh, 4);
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                          _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
  return _mm256_add_epi8(q, _mm256_and_si256(set, _mm256_set1_epi8(16)));
}

// Eight int32 sums of four byte products each, from int16 pair sums.
__m256i widen_pairs(__m256i p16) { return _mm256_madd_epi16(p16, _mm256_set1_epi16(1)); }

float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// ---- weight formats: Block, Act, kOffset (0: none; 128: signed, sign trick),
// kHasMin, unpack(), d(), m() -------------------------------------------------

struct Q4_0 {
  using Block = BlockQ4_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 8;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const Block& b) { return unpack_nibbles(b.qs); }
  static float m(const Block&) { return 0.0f; }
};

struct Q4_1 {
  using Block = BlockQ4_1;
  using Act = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const Block& b) { return unpack_nibbles(b.qs); }
  static float m(const Block& b) { return h2f(b.m); }
};

struct Q5_0 {
  using Block = BlockQ5_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 16;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const Block& b) { return add_fifth_bits(unpack_nibbles(b.qs), b.qh); }
  static float m(const Block&) { return 0.0f; }
};

struct Q5_1 {
  using Block = BlockQ5_1;
  using Act = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const Block& b) { return add_fifth_bits(unpack_nibbles(b.qs), b.qh); }
  static float m(const Block& b) { return h2f(b.m); }
};

struct Q8_0 {
  using Block = BlockQ8_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 128;  // marks signed weights
  static constexpr bool kHasMin = false;
  static __m256i unpack(const Block& b) { return load32(b.qs); }
  static float m(const Block&) { return 0.0f; }
};

template <class W>
struct Block32Kernel {
  using Block = typename W::Block;
  using Act = typename W::Act;
  static constexpr bool kSigned = W::kOffset == 128;

  template <int R, int T>
  static void tile(const Tile& p) {
    const int64_t nb = p.n / kQK;
    __m256 acc[R][T];
    float min_sum[R][T] = {};  // sum of m * s (Q4_1, Q5_1)
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    for (int64_t i = 0; i < nb; ++i) {
      __m256i aq[T], a_off[T];
      float ad[T];
      for (int t = 0; t < T; ++t) {
        const Act& a = row_blocks<Act>(p.a, p.a_stride, t)[i];
        aq[t] = load32(a.qs);
        ad[t] = h2f(a.d);
        if constexpr (!kSigned && W::kOffset != 0) {
          a_off[t] = widen_pairs(_mm256_maddubs_epi16(_mm256_set1_epi8(W::kOffset), aq[t]));
        }
      }
      for (int r = 0; r < R; ++r) {
        const Block& w = row_blocks<Block>(p.w, p.w_stride, r)[i];
        prefetch_ahead(&w);
        const __m256i wq = W::unpack(w);
        const float wd = h2f(w.d);
        __m256i w_abs;
        if constexpr (kSigned) w_abs = _mm256_sign_epi8(wq, wq);
        for (int t = 0; t < T; ++t) {
          __m256i isum;
          if constexpr (kSigned) {
            isum = widen_pairs(_mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(aq[t], wq)));
          } else {
            isum = widen_pairs(_mm256_maddubs_epi16(wq, aq[t]));
            if constexpr (W::kOffset != 0) isum = _mm256_sub_epi32(isum, a_off[t]);
          }
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(wd * ad[t]), acc[r][t]);
          if constexpr (W::kHasMin) {
            min_sum[r][t] += W::m(w) * h2f(row_blocks<Act>(p.a, p.a_stride, t)[i].s);
          }
        }
      }
    }
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < R; ++r) p.y[t * p.y_stride + r] = hsum(acc[r][t]) + min_sum[r][t];
    }
  }
};

// ---- float weights, f32 activations ------------------------------------------------

struct F32 {
  using Elem = float;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
  static float scalar(float x) { return x; }
};

struct F16 {
  using Elem = fp16_t;
  static __m256 load(const fp16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float scalar(fp16_t x) { return h2f(x); }
};

struct BF16 {
  using Elem = bf16_t;
  static __m256 load(const bf16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float scalar(bf16_t x) {
    const uint32_t bits = static_cast<uint32_t>(x) << 16;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
  }
};

template <class W>
struct FloatKernel {
  using Elem = typename W::Elem;

  template <int R, int T>
  static void tile(const Tile& p) {
    __m256 acc[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 8 <= p.n; i += 8) {
      __m256 wv[R];
      for (int r = 0; r < R; ++r) {
        const Elem* w = row_blocks<Elem>(p.w, p.w_stride, r) + i;
        prefetch_ahead(w);
        wv[r] = W::load(w);
      }
      for (int t = 0; t < T; ++t) {
        const __m256 av = _mm256_loadu_ps(row_blocks<float>(p.a, p.a_stride, t) + i);
        for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], av, acc[r][t]);
      }
    }
    for (int t = 0; t < T; ++t) {
      for (int r = 0; r < R; ++r) {
        float sum = hsum(acc[r][t]);
        const Elem* w = row_blocks<Elem>(p.w, p.w_stride, r);
        const float* a = row_blocks<float>(p.a, p.a_stride, t);
        for (int64_t j = i; j < p.n; ++j) sum += W::scalar(w[j]) * a[j];  // the last n % 8
        p.y[t * p.y_stride + r] = sum;
      }
    }
  }
};

// 4 rows x 2 tokens: 8 accumulators and the row data fit the 16 ymm registers.
template <class K>
Kernel make_kernel() {
  return {run_tile<K, 4, 2>, 4, 2, 4};
}

}  // namespace

Kernel avx2_kernel(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return make_kernel<FloatKernel<F32>>();
    case GgmlType::F16:
      return make_kernel<FloatKernel<F16>>();
    case GgmlType::BF16:
      return make_kernel<FloatKernel<BF16>>();
    case GgmlType::Q4_0:
      return make_kernel<Block32Kernel<Q4_0>>();
    case GgmlType::Q4_1:
      return make_kernel<Block32Kernel<Q4_1>>();
    case GgmlType::Q5_0:
      return make_kernel<Block32Kernel<Q5_0>>();
    case GgmlType::Q5_1:
      return make_kernel<Block32Kernel<Q5_1>>();
    case GgmlType::Q8_0:
      return make_kernel<Block32Kernel<Q8_0>>();
    default:
      return avx2_kernel_k(type);
  }
}

}  // namespace gs::kern
