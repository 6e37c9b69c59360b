#include "kernels/cpu/adaround.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/fake_quant_cpu.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QSIM_ADAROUND_AVX2 1
#include <immintrin.h>
#else
#define QSIM_ADAROUND_AVX2 0
#endif

// Both paths evaluate every formula in the same order of float operations (no FMA:
// -ffp-contract=off), so they agree bit for bit; the regularizer's sum is kept in 8
// lane partials (element j of a row goes to lane j % 8) in both, for the same reason.

namespace qsim::kernels::cpu {
namespace {

constexpr float kStretch = kAdaroundZeta - kAdaroundGamma;
constexpr int kLanes = 8;

const AdaroundGrid& grid_of(const AdaroundRows& layout, int64_t row) {
  return layout.grids[layout.per_row ? row : 0];
}

float clamp01(float x) { return std::min(1.0f, std::max(0.0f, x)); }

struct SoftElement {
  float w, a;
};

SoftElement soft_element(const AdaroundGrid& g, float sigma, float base) {
  const float h = clamp01(sigma * kStretch + kAdaroundGamma);
  return {g.delta * std::min(g.code_max, std::max(g.code_min, base + h)), std::fabs(2.0f * h - 1.0f)};
}

struct StepScalars {
  float reg_weight, beta, step;
  bool reg;
  const AdamStep* adam;
};

// One element's dL/dV and Adam update; returns the regularizer's term.
float adam_element(const AdaroundGrid& g, const StepScalars& k, float grad_w, float sigma, float base, float a,
                   float a_pow, float& v, float& m, float& s) {
  const float raw = sigma * kStretch + kAdaroundGamma;
  const float h = clamp01(raw);
  // dh/dV through the rectified sigmoid; zero where the clamp to [0, 1] holds.
  const float dh_dv = (raw > 0.0f && raw < 1.0f) ? kStretch * sigma * (1.0f - sigma) : 0.0f;
  const float code = base + h;
  float dh = grad_w * ((code > g.code_min && code < g.code_max) ? g.delta : 0.0f);
  float term = 0.0f;
  if (k.reg) {
    // d/dh (1 − |2h − 1|^β) = −2β·|2h − 1|^(β−1)·sign(2h − 1)
    const float sign = 2.0f * h - 1.0f >= 0.0f ? 1.0f : -1.0f;
    dh = dh + k.reg_weight * (-2.0f * k.beta * a_pow * sign);
    term = 1.0f - a * a_pow;
  }
  const float grad = dh * dh_dv;
  const AdamStep& adam = *k.adam;
  m = adam.beta1 * m + (1.0f - adam.beta1) * grad;
  s = adam.beta2 * s + (1.0f - adam.beta2) * grad * grad;
  v = v - k.step * m / (std::sqrt(s) / adam.sqrt_bias_correction2 + adam.eps);
  return term;
}

double sum_lanes(const float* lanes) {
  float sum = 0.0f;
  for (int j = 0; j < kLanes; ++j) sum += lanes[j];
  return sum;
}

void soft_row_scalar(const AdaroundGrid& g, const float* sigma, const float* base, float* w, float* a, int64_t from,
                     int64_t cols) {
  for (int64_t i = from; i < cols; ++i) {
    const SoftElement e = soft_element(g, sigma[i], base[i]);
    w[i] = e.w;
    if (a != nullptr) a[i] = e.a;
  }
}

void adam_row_scalar(const AdaroundGrid& g, const StepScalars& k, const float* grad_w, const float* sigma,
                     const float* base, const float* a, const float* a_pow, float* v, float* m, float* s, int64_t from,
                     int64_t cols, float* lanes) {
  for (int64_t i = from; i < cols; ++i) {
    lanes[i % kLanes] += adam_element(g, k, grad_w[i], sigma[i], base[i], k.reg ? a[i] : 0.0f,
                                      k.reg ? a_pow[i] : 0.0f, v[i], m[i], s[i]);
  }
}

}  // namespace
}  // namespace qsim::kernels::cpu

#if QSIM_ADAROUND_AVX2
#pragma GCC push_options
#pragma GCC target("avx2")

namespace qsim::kernels::cpu {
namespace {

__m256 clamp_ps(__m256 x, __m256 lo, __m256 hi) { return _mm256_min_ps(_mm256_max_ps(x, lo), hi); }

__m256 abs_ps(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }

// Returns the first column the vector loop did not do.
int64_t soft_row_avx2(const AdaroundGrid& g, const float* sigma, const float* base, float* w, float* a, int64_t cols) {
  const __m256 stretch = _mm256_set1_ps(kStretch), gamma = _mm256_set1_ps(kAdaroundGamma);
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
  const __m256 delta = _mm256_set1_ps(g.delta), lo = _mm256_set1_ps(g.code_min), hi = _mm256_set1_ps(g.code_max);
  int64_t i = 0;
  for (; i + kLanes <= cols; i += kLanes) {
    const __m256 h = clamp_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(sigma + i), stretch), gamma), zero, one);
    const __m256 code = clamp_ps(_mm256_add_ps(_mm256_loadu_ps(base + i), h), lo, hi);
    _mm256_storeu_ps(w + i, _mm256_mul_ps(delta, code));
    if (a != nullptr) _mm256_storeu_ps(a + i, abs_ps(_mm256_sub_ps(_mm256_mul_ps(two, h), one)));
  }
  return i;
}

int64_t adam_row_avx2(const AdaroundGrid& g, const StepScalars& k, const float* grad_w, const float* sigma,
                      const float* base, const float* a, const float* a_pow, float* v, float* m, float* s, int64_t cols,
                      float* lanes) {
  const AdamStep& adam = *k.adam;
  const __m256 stretch = _mm256_set1_ps(kStretch), gamma = _mm256_set1_ps(kAdaroundGamma);
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
  const __m256 delta = _mm256_set1_ps(g.delta), lo = _mm256_set1_ps(g.code_min), hi = _mm256_set1_ps(g.code_max);
  const __m256 reg_weight = _mm256_set1_ps(k.reg_weight), minus_two_beta = _mm256_set1_ps(-2.0f * k.beta);
  const __m256 b1 = _mm256_set1_ps(adam.beta1), c1 = _mm256_set1_ps(1.0f - adam.beta1);
  const __m256 b2 = _mm256_set1_ps(adam.beta2), c2 = _mm256_set1_ps(1.0f - adam.beta2);
  const __m256 bc2 = _mm256_set1_ps(adam.sqrt_bias_correction2), eps = _mm256_set1_ps(adam.eps);
  const __m256 step = _mm256_set1_ps(k.step);
  __m256 sum = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + kLanes <= cols; i += kLanes) {
    const __m256 sig = _mm256_loadu_ps(sigma + i);
    const __m256 raw = _mm256_add_ps(_mm256_mul_ps(sig, stretch), gamma);
    const __m256 h = clamp_ps(raw, zero, one);
    const __m256 inside = _mm256_and_ps(_mm256_cmp_ps(raw, zero, _CMP_GT_OQ), _mm256_cmp_ps(raw, one, _CMP_LT_OQ));
    const __m256 dh_dv = _mm256_and_ps(inside, _mm256_mul_ps(_mm256_mul_ps(stretch, sig), _mm256_sub_ps(one, sig)));
    const __m256 code = _mm256_add_ps(_mm256_loadu_ps(base + i), h);
    const __m256 on_grid = _mm256_and_ps(_mm256_cmp_ps(code, lo, _CMP_GT_OQ), _mm256_cmp_ps(code, hi, _CMP_LT_OQ));
    __m256 dh = _mm256_mul_ps(_mm256_loadu_ps(grad_w + i), _mm256_and_ps(on_grid, delta));
    if (k.reg) {
      const __m256 centred = _mm256_sub_ps(_mm256_mul_ps(two, h), one);
      const __m256 sign = _mm256_blendv_ps(_mm256_set1_ps(-1.0f), one, _mm256_cmp_ps(centred, zero, _CMP_GE_OQ));
      const __m256 power = _mm256_loadu_ps(a_pow + i);
      dh = _mm256_add_ps(dh, _mm256_mul_ps(reg_weight, _mm256_mul_ps(_mm256_mul_ps(minus_two_beta, power), sign)));
      sum = _mm256_add_ps(sum, _mm256_sub_ps(one, _mm256_mul_ps(_mm256_loadu_ps(a + i), power)));
    }
    const __m256 grad = _mm256_mul_ps(dh, dh_dv);
    const __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, grad));
    const __m256 si =
        _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(s + i)), _mm256_mul_ps(_mm256_mul_ps(c2, grad), grad));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(si), bc2), eps);
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(s + i, si);
    _mm256_storeu_ps(v + i, _mm256_sub_ps(_mm256_loadu_ps(v + i), _mm256_div_ps(_mm256_mul_ps(step, mi), denom)));
  }
  alignas(32) float partial[kLanes];
  _mm256_store_ps(partial, sum);
  for (int j = 0; j < kLanes; ++j) lanes[j] += partial[j];
  return i;
}

}  // namespace
}  // namespace qsim::kernels::cpu

#pragma GCC pop_options
#endif  // QSIM_ADAROUND_AVX2

namespace qsim::kernels::cpu {

void adaround_soft_weight(const AdaroundRows& layout, const float* sigma, const float* base, float* w, float* a) {
  for (int64_t r = 0; r < layout.rows; ++r) {
    const int64_t o = r * layout.cols;
    float* a_row = a != nullptr ? a + o : nullptr;
    int64_t from = 0;
#if QSIM_ADAROUND_AVX2
    if (avx2_active()) from = soft_row_avx2(grid_of(layout, r), sigma + o, base + o, w + o, a_row, layout.cols);
#endif
    soft_row_scalar(grid_of(layout, r), sigma + o, base + o, w + o, a_row, from, layout.cols);
  }
}

void adaround_hard_weight(const AdaroundRows& layout, const float* v, const float* base, float* w) {
  for (int64_t r = 0; r < layout.rows; ++r) {
    const AdaroundGrid g = grid_of(layout, r);
    const int64_t begin = r * layout.cols;
    for (int64_t i = begin; i < begin + layout.cols; ++i) {
      const float h = v[i] >= 0.0f ? 1.0f : 0.0f;
      w[i] = g.delta * std::min(g.code_max, std::max(g.code_min, base[i] + h));
    }
  }
}

double adaround_adam_step(const AdaroundRows& layout, const float* grad_w, const float* sigma, const float* base,
                          const float* a, const float* a_pow, float reg_weight, float beta, const AdamStep& adam,
                          float* v, float* m, float* s) {
  const StepScalars k{reg_weight, beta, adam.lr / adam.bias_correction1, reg_weight > 0.0f, &adam};
  double reg_sum = 0.0;
  for (int64_t r = 0; r < layout.rows; ++r) {
    const int64_t o = r * layout.cols;
    const AdaroundGrid& g = grid_of(layout, r);
    float lanes[kLanes] = {};
    const float* a_row = k.reg ? a + o : nullptr;
    const float* pow_row = k.reg ? a_pow + o : nullptr;
    int64_t from = 0;
#if QSIM_ADAROUND_AVX2
    if (avx2_active()) {
      from = adam_row_avx2(g, k, grad_w + o, sigma + o, base + o, a_row, pow_row, v + o, m + o, s + o, layout.cols,
                           lanes);
    }
#endif
    adam_row_scalar(g, k, grad_w + o, sigma + o, base + o, a_row, pow_row, v + o, m + o, s + o, from, layout.cols,
                    lanes);
    if (k.reg) reg_sum += sum_lanes(lanes);
  }
  return reg_sum;
}

void adaround_init(const AdaroundRows& layout, const float* w_float, float* base, float* v) {
  for (int64_t r = 0; r < layout.rows; ++r) {
    const AdaroundGrid g = grid_of(layout, r);
    const int64_t begin = r * layout.cols;
    for (int64_t i = begin; i < begin + layout.cols; ++i) {
      const float scaled = w_float[i] / g.delta;
      base[i] = std::floor(scaled);
      const float frac = scaled - base[i];  // [0, 1)
      v[i] = -std::log(kStretch / (frac - kAdaroundGamma) - 1.0f);
    }
  }
}

}  // namespace qsim::kernels::cpu
