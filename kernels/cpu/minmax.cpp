#include "kernels/cpu/minmax.hpp"

#include <limits>

#include "kernels/cpu/fake_quant_cpu.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QSIM_MINMAX_AVX2 1
#include <immintrin.h>
#else
#define QSIM_MINMAX_AVX2 0
#endif

namespace qsim::kernels::cpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// NaN never wins a comparison, so it is skipped here and reported through `nan`;
// ±Inf shows up as an extreme. Both make the result non-finite.
MinMax finish(float mn, float mx, bool nan) { return {mn, mx, !nan && mn != -kInf && mx != kInf}; }

MinMax minmax_scalar(const float* x, int64_t n) {
  float mn = kInf;
  float mx = -kInf;
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
    nan = nan || v != v;
  }
  return finish(mn, mx, nan);
}

}  // namespace
}  // namespace qsim::kernels::cpu

#if QSIM_MINMAX_AVX2
#pragma GCC push_options
#pragma GCC target("avx2")

namespace qsim::kernels::cpu {
namespace {

// Four independent accumulators hide the latency of min/max; min_ps(v, acc) is
// v < acc ? v : acc, so a NaN input leaves the accumulator unchanged (as scalar).
MinMax minmax_avx2(const float* x, int64_t n) {
  __m256 mn[4];
  __m256 mx[4];
  __m256 nan = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    mn[k] = _mm256_set1_ps(kInf);
    mx[k] = _mm256_set1_ps(-kInf);
  }
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      const __m256 v = _mm256_loadu_ps(x + i + 8 * k);
      mn[k] = _mm256_min_ps(v, mn[k]);
      mx[k] = _mm256_max_ps(v, mx[k]);
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    mn[0] = _mm256_min_ps(v, mn[0]);
    mx[0] = _mm256_max_ps(v, mx[0]);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  alignas(32) float lo[8];
  alignas(32) float hi[8];
  _mm256_store_ps(lo, _mm256_min_ps(_mm256_min_ps(mn[0], mn[1]), _mm256_min_ps(mn[2], mn[3])));
  _mm256_store_ps(hi, _mm256_max_ps(_mm256_max_ps(mx[0], mx[1]), _mm256_max_ps(mx[2], mx[3])));
  MinMax r = minmax_scalar(x + i, n - i);
  bool any_nan = _mm256_movemask_ps(nan) != 0 || !r.finite;
  float a = r.min;
  float b = r.max;
  for (int k = 0; k < 8; ++k) {
    a = lo[k] < a ? lo[k] : a;
    b = hi[k] > b ? hi[k] : b;
  }
  return finish(a, b, any_nan);
}

}  // namespace
}  // namespace qsim::kernels::cpu

#pragma GCC pop_options
#endif  // QSIM_MINMAX_AVX2

namespace qsim::kernels::cpu {

MinMax empty_minmax() { return {kInf, -kInf, true}; }

MinMax minmax(const float* x, int64_t n) {
#if QSIM_MINMAX_AVX2
  if (avx2_active()) return minmax_avx2(x, n);
#endif
  return minmax_scalar(x, n);
}

MinMax merge(const MinMax& a, const MinMax& b) {
  return {b.min < a.min ? b.min : a.min, b.max > a.max ? b.max : a.max, a.finite && b.finite};
}

}  // namespace qsim::kernels::cpu
