// Scale search for the K formats, in two stages per super-block:
//  1. each sub-block gets the real-valued scale (and min) that minimises its
//     squared error: a sweep over candidate grid spacings, each refitted by
//     least squares, then Lloyd iterations (re-round, refit) from the best;
//  2. those scales become integer levels of one fp16 super-block scale. Each
//     sub-block tries the levels next to its ideal one and keeps the one with
//     the smallest actual error; then the super-block scale itself is refitted
//     by least squares with the levels fixed, and kept when it helps.
// Every error is measured on the exact values dequantization will produce.
#include "tensor/quants_fit.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace gs::kquants {
namespace {

// Round half to even. Adding 1.5*2^23 makes the f32 ulp exactly 1, so the
// FPU's rounding does the work and the integer sits in the low mantissa
// bits: cheaper than a libm call in these inner loops. |v| is clamped first
// so every input, even NaN or a huge ratio from a tiny scale, is defined.
int round_int(float v) {
  if (!(std::fabs(v) < 4194303.0f)) v = std::isnan(v) ? 0.0f : std::copysign(4194303.0f, v);
  const float shifted = v + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x7fffff) - 0x400000;
}

float square(float v) { return v * v; }

// What an fp16 scale field will hold for `v` (kept finite: a scale is never inf).
float fp16_round(float v) {
  v = std::clamp(v, -65504.0f, 65504.0f);
  return fp16_to_fp32(fp32_to_fp16(v));
}

// ---- affine: x ~ scale*q - min --------------------------------------------

struct Affine {
  float scale = 0.0f;  // >= 0
  float min = 0.0f;    // >= 0: the formats store the negated offset unsigned
};

// Nearest q for every x under (scale, min); returns the squared error.
float assign_affine(const float* x, int n, int qmax, float scale, float min, uint8_t* q) {
  float err = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = scale > 0.0f ? std::clamp(round_int((x[i] + min) / scale), 0, qmax) : 0;
    q[i] = static_cast<uint8_t>(l);
    err += square(scale * static_cast<float>(l) - min - x[i]);
  }
  return err;
}

float affine_error(const float* x, const uint8_t* q, int n, const Affine& a) {
  float err = 0.0f;
  for (int i = 0; i < n; ++i) err += square(a.scale * q[i] - a.min - x[i]);
  return err;
}

// Least-squares scale and offset for fixed q, under the format's sign limits.
Affine refit_affine(const float* x, const uint8_t* q, int n) {
  float sum_q = 0, sum_qq = 0, sum_x = 0, sum_xq = 0;
  for (int i = 0; i < n; ++i) {
    sum_q += q[i];
    sum_qq += static_cast<float>(q[i]) * q[i];
    sum_x += x[i];
    sum_xq += x[i] * q[i];
  }
  const float det = static_cast<float>(n) * sum_qq - sum_q * sum_q;
  const float mean_offset = std::min(0.0f, sum_x / static_cast<float>(n));
  if (!(det > 0.0f)) return {0.0f, -mean_offset};  // all q equal: best constant
  float scale = (static_cast<float>(n) * sum_xq - sum_x * sum_q) / det;
  float offset = (sum_qq * sum_x - sum_q * sum_xq) / det;
  if (offset > 0.0f) {  // the format cannot add: pin the offset at 0
    offset = 0.0f;
    scale = sum_xq / sum_qq;
  }
  if (scale < 0.0f) return {0.0f, -mean_offset};
  return {scale, -offset};
}

// Candidate grid spacings: the range [lo, hi] cut into qmax + r steps for
// r in [-1, 1]. Fewer steps than qmax clip the extremes to refine the bulk.
constexpr int kAffineSteps = 20;
constexpr float kAffineFirst = -1.0f;
constexpr float kAffineDelta = 0.1f;
constexpr int kLloydIterations = 4;

Affine fit_affine(const float* x, int n, int qmax) {
  float lo = *std::min_element(x, x + n), hi = *std::max_element(x, x + n);
  lo = std::min(lo, 0.0f);
  if (!(hi > lo)) return {0.0f, -lo};  // constant (or non-finite) sub-block

  uint8_t q[32];
  Affine best{(hi - lo) / static_cast<float>(qmax), -lo};
  float best_err = assign_affine(x, n, qmax, best.scale, best.min, q);
  for (int k = 0; k <= kAffineSteps; ++k) {
    const float inverse_step = (static_cast<float>(qmax) + kAffineFirst + kAffineDelta * k) / (hi - lo);
    for (int i = 0; i < n; ++i) {
      q[i] = static_cast<uint8_t>(std::clamp(round_int((x[i] - lo) * inverse_step), 0, qmax));
    }
    const Affine a = refit_affine(x, q, n);
    const float err = affine_error(x, q, n, a);
    if (err < best_err) {
      best = a;
      best_err = err;
    }
  }
  // Re-rounding to the refitted grid and refitting never increases the error.
  for (int it = 0; it < kLloydIterations; ++it) {
    assign_affine(x, n, qmax, best.scale, best.min, q);
    const Affine a = refit_affine(x, q, n);
    const float err = affine_error(x, q, n, a);
    if (!(err < best_err)) break;
    best = a;
    best_err = err;
  }
  return best;
}

// Integer levels for one sub-block given the super-block scales: the levels
// around the ideal ones, judged by the real error of the re-rounded quants.
float choose_affine_levels(const float* x, const AffineFormat& f, const Affine& fit, float d, float dmin,
                           uint8_t* ls, uint8_t* lm, uint8_t* q) {
  const int ls0 = d > 0.0f ? std::clamp(round_int(fit.scale / d), 0, f.lmax) : 0;
  const int lm0 = dmin > 0.0f ? std::clamp(round_int(fit.min / dmin), 0, f.lmax) : 0;
  float best_err = std::numeric_limits<float>::infinity();
  uint8_t candidate[32];
  for (int a = std::max(0, ls0 - 1); a <= std::min(f.lmax, ls0 + 1); ++a) {
    for (int b = std::max(0, lm0 - 1); b <= std::min(f.lmax, lm0 + 1); ++b) {
      // Same float operations as dequantization, so the error is exact.
      const float scale = d * static_cast<float>(a), min = dmin * static_cast<float>(b);
      const float err = assign_affine(x, f.sub_size, f.qmax, scale, min, candidate);
      if (err < best_err) {
        best_err = err;
        *ls = static_cast<uint8_t>(a);
        *lm = static_cast<uint8_t>(b);
        std::memcpy(q, candidate, static_cast<size_t>(f.sub_size));
      }
    }
  }
  return best_err;
}

float choose_all_affine_levels(const float* x, const AffineFormat& f, const Affine* fits, float d, float dmin,
                               AffineBlock* out) {
  float err = 0.0f;
  for (int j = 0; j < kQK_K / f.sub_size; ++j) {
    const int at = j * f.sub_size;
    err += choose_affine_levels(x + at, f, fits[j], d, dmin, &out->ls[j], &out->lm[j], out->q + at);
  }
  out->d = fp32_to_fp16(d);
  out->dmin = fp32_to_fp16(dmin);
  return err;
}

// Least-squares (d, dmin) with every integer level and quant fixed:
// x ~ d*A - dmin*B with A = ls*q and B = lm.
void refit_super_scales(const float* x, const AffineFormat& f, const AffineBlock& b, float* d, float* dmin) {
  double aa = 0, ab = 0, bb = 0, ax = 0, bx = 0;
  for (int i = 0; i < kQK_K; ++i) {
    const int j = i / f.sub_size;
    const double a = static_cast<double>(b.ls[j]) * b.q[i], m = b.lm[j];
    aa += a * a;
    ab += a * m;
    bb += m * m;
    ax += a * x[i];
    bx += m * x[i];
  }
  const double det = aa * bb - ab * ab;
  if (det > 0.0) {
    *d = static_cast<float>((ax * bb - ab * bx) / det);
    *dmin = static_cast<float>((ab * ax - aa * bx) / det);
  } else if (aa > 0.0) {
    *d = static_cast<float>(ax / aa);  // no mins in use
  }
  *d = fp16_round(std::max(*d, 0.0f));
  *dmin = fp16_round(std::max(*dmin, 0.0f));
}

// ---- symmetric: x ~ scale*q -------------------------------------------------

float assign_symmetric(const float* x, int n, int qneg, float scale, int8_t* q) {
  float err = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = scale != 0.0f ? std::clamp(round_int(x[i] / scale), -qneg, qneg - 1) : 0;
    q[i] = static_cast<int8_t>(l);
    err += square(scale * static_cast<float>(l) - x[i]);
  }
  return err;
}

// Least-squares scale for fixed q; the error follows from the normal equation.
float refit_symmetric(const float* x, const int8_t* q, int n, float sum_xx, float* err) {
  float sum_xq = 0, sum_qq = 0;
  for (int i = 0; i < n; ++i) {
    sum_xq += x[i] * q[i];
    sum_qq += static_cast<float>(q[i]) * q[i];
  }
  if (!(sum_qq > 0.0f)) {
    *err = sum_xx;
    return 0.0f;
  }
  *err = sum_xx - sum_xq * sum_xq / sum_qq;
  return sum_xq / sum_qq;
}

constexpr int kSymmetricSteps = 9;  // candidate levels for the extreme: +-0.9 around it

// The grid is asymmetric ([-qneg, qneg-1]), so both orientations are tried:
// the extreme element on level -qneg (negative scale if it is positive) or
// on level qneg-1.
float fit_symmetric(const float* x, int n, int qneg) {
  float amax = 0.0f, max = 0.0f, sum_xx = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
    sum_xx += x[i] * x[i];
  }
  if (!(amax > 0.0f)) return 0.0f;

  int8_t q[32];
  float best_scale = 0.0f, best_err = sum_xx;
  for (const float target : {-static_cast<float>(qneg), static_cast<float>(qneg - 1)}) {
    for (int k = -kSymmetricSteps; k <= kSymmetricSteps; ++k) {
      const float inverse = (target + std::copysign(0.1f * k, target)) / max;
      for (int i = 0; i < n; ++i) {
        q[i] = static_cast<int8_t>(std::clamp(round_int(x[i] * inverse), -qneg, qneg - 1));
      }
      float err;
      const float scale = refit_symmetric(x, q, n, sum_xx, &err);
      if (err < best_err) {
        best_err = err;
        best_scale = scale;
      }
    }
  }
  for (int it = 0; it < kLloydIterations; ++it) {
    assign_symmetric(x, n, qneg, best_scale, q);
    float err;
    const float scale = refit_symmetric(x, q, n, sum_xx, &err);
    if (!(err < best_err)) break;
    best_err = err;
    best_scale = scale;
  }
  return best_scale;
}

float choose_symmetric_level(const float* x, const SymmetricFormat& f, float fit, float d, int8_t* ls,
                             int8_t* q) {
  const int l0 = d != 0.0f ? std::clamp(round_int(fit / d), -f.lneg, f.lneg - 1) : 0;
  float best_err = std::numeric_limits<float>::infinity();
  int8_t candidate[32];
  for (int l = std::max(-f.lneg, l0 - 1); l <= std::min(f.lneg - 1, l0 + 1); ++l) {
    const float err = assign_symmetric(x, f.sub_size, f.qneg, d * static_cast<float>(l), candidate);
    if (err < best_err) {
      best_err = err;
      *ls = static_cast<int8_t>(l);
      std::memcpy(q, candidate, static_cast<size_t>(f.sub_size));
    }
  }
  return best_err;
}

float choose_all_symmetric_levels(const float* x, const SymmetricFormat& f, const float* fits, float d,
                                  SymmetricBlock* out) {
  float err = 0.0f;
  for (int j = 0; j < kQK_K / f.sub_size; ++j) {
    const int at = j * f.sub_size;
    err += choose_symmetric_level(x + at, f, fits[j], d, &out->ls[j], out->q + at);
  }
  out->d = fp32_to_fp16(d);
  return err;
}

float refit_super_scale(const float* x, const SymmetricFormat& f, const SymmetricBlock& b, float d) {
  double aa = 0, ax = 0;
  for (int i = 0; i < kQK_K; ++i) {
    const double a = static_cast<double>(b.ls[i / f.sub_size]) * b.q[i];
    aa += a * a;
    ax += a * x[i];
  }
  return aa > 0.0 ? fp16_round(static_cast<float>(ax / aa)) : d;
}

constexpr int kSuperRefits = 2;

}  // namespace

void quantize_affine(const float* x, const AffineFormat& f, AffineBlock* out) {
  const int n_sub = kQK_K / f.sub_size;
  Affine fits[16];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < n_sub; ++j) {
    fits[j] = fit_affine(x + j * f.sub_size, f.sub_size, f.qmax);
    max_scale = std::max(max_scale, fits[j].scale);
    max_min = std::max(max_min, fits[j].min);
  }
  float d = fp16_round(max_scale / static_cast<float>(f.lmax));
  float dmin = fp16_round(max_min / static_cast<float>(f.lmax));
  float err = choose_all_affine_levels(x, f, fits, d, dmin, out);
  for (int it = 0; it < kSuperRefits; ++it) {
    refit_super_scales(x, f, *out, &d, &dmin);
    AffineBlock trial;
    const float trial_err = choose_all_affine_levels(x, f, fits, d, dmin, &trial);
    if (!(trial_err < err)) break;
    *out = trial;
    err = trial_err;
  }
}

void quantize_symmetric(const float* x, const SymmetricFormat& f, SymmetricBlock* out) {
  const int n_sub = kQK_K / f.sub_size;
  float fits[16];
  float max_scale = 0.0f;  // signed: the sub-block scale of largest magnitude
  for (int j = 0; j < n_sub; ++j) {
    fits[j] = fit_symmetric(x + j * f.sub_size, f.sub_size, f.qneg);
    if (std::fabs(fits[j]) > std::fabs(max_scale)) max_scale = fits[j];
  }
  // Put the largest scale on level -lneg, the end of the range with room.
  float d = fp16_round(max_scale / -static_cast<float>(f.lneg));
  float err = choose_all_symmetric_levels(x, f, fits, d, out);
  for (int it = 0; it < kSuperRefits; ++it) {
    d = refit_super_scale(x, f, *out, d);
    SymmetricBlock trial;
    const float trial_err = choose_all_symmetric_levels(x, f, fits, d, &trial);
    if (!(trial_err < err)) break;
    *out = trial;
    err = trial_err;
  }
}

}  // namespace gs::kquants
