#include "kernels/cpu/histogram.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/fake_quant_cpu.hpp"
#include "kernels/fake_quant_scalar.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QSIM_HISTOGRAM_AVX2 1
#include <immintrin.h>
#else
#define QSIM_HISTOGRAM_AVX2 0
#endif

namespace qsim::kernels::cpu {
namespace {

constexpr float kFloatMax = std::numeric_limits<float>::max();

// Four interleaved copies of the buckets, so consecutive increments rarely hit the
// same counter (a store-to-load dependency). Slot 0 and slot buckets+1 collect the
// dropped values, so the hot loop needs no branch: bucket b lives in slot b + 1.
class SubHistograms {
 public:
  explicit SubHistograms(int64_t buckets)
      : buckets_(buckets), stride_(buckets + 2), slots_(static_cast<size_t>(4 * stride_), 0) {}

  void add(int copy, int64_t slot) { ++slots_[static_cast<size_t>(copy * stride_ + slot)]; }

  void flush(int64_t* counts) const {
    for (int copy = 0; copy < 4; ++copy) {
      const int64_t* s = slots_.data() + copy * stride_ + 1;
      for (int64_t b = 0; b < buckets_; ++b) counts[b] += s[b];
    }
  }

 private:
  int64_t buckets_;
  int64_t stride_;
  std::vector<int64_t> slots_;
};

bool is_finite(float v) { return std::fabs(v) <= kFloatMax; }

// Slot of the rounded binning: the index is clamped to [−1, buckets] before the
// conversion (no float→int overflow), which keeps every in-range index exact.
int64_t rounded_slot(float v, float width, float offset, float top) {
  float t = v / width - offset;
  t = t >= -1.0f ? t : -1.0f;
  t = t <= top ? t : top;
  return static_cast<int64_t>(round_away(t)) + 1;
}

int64_t truncated_slot(float v, float min, float width, float last) {
  if (!is_finite(v)) return 0;
  if (width == 0.0f) return 1;
  float t = (v - min) / width;
  t = t >= 0.0f ? t : 0.0f;
  t = t <= last ? t : last;
  return static_cast<int64_t>(t) + 1;
}

bool rounded_scalar(const float* x, int64_t n, float width, float offset, SubHistograms& h, int64_t buckets) {
  const float top = static_cast<float>(buckets);
  bool finite = true;
  for (int64_t i = 0; i < n; ++i) {
    finite = finite && is_finite(x[i]);
    h.add(static_cast<int>(i & 3), rounded_slot(x[i], width, offset, top));
  }
  return finite;
}

bool truncated_scalar(const float* x, int64_t n, float min, float width, SubHistograms& h, int64_t buckets) {
  const float last = static_cast<float>(buckets - 1);
  bool finite = true;
  for (int64_t i = 0; i < n; ++i) {
    finite = finite && is_finite(x[i]);
    h.add(static_cast<int>(i & 3), truncated_slot(x[i], min, width, last));
  }
  return finite;
}

}  // namespace
}  // namespace qsim::kernels::cpu

#if QSIM_HISTOGRAM_AVX2
#pragma GCC push_options
#pragma GCC target("avx2")
// The __m256 lambdas below are only called from AVX2 code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace qsim::kernels::cpu {
namespace {

constexpr int64_t kWidth = 8;

// Each block of 8 values becomes 8 slots in a vector register; the increments
// that follow are scalar (x86 has no conflict-free scatter-add).
template <typename SlotOf>
bool bin_avx2(const float* x, int64_t n, SubHistograms& h, SlotOf slot_of, int64_t* done) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 float_max = _mm256_set1_ps(kFloatMax);
  __m256 bad = _mm256_setzero_ps();
  alignas(32) int32_t slots[kWidth];
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 nonfinite = _mm256_cmp_ps(_mm256_and_ps(v, abs_mask), float_max, _CMP_NLE_UQ);
    bad = _mm256_or_ps(bad, nonfinite);
    _mm256_store_si256(reinterpret_cast<__m256i*>(slots), slot_of(v, nonfinite));
    for (int k = 0; k < kWidth; ++k) h.add(k & 3, slots[k]);
  }
  *done = i;
  return _mm256_movemask_ps(bad) == 0;
}

bool rounded_avx2(const float* x, int64_t n, float width, float offset, SubHistograms& h, int64_t buckets) {
  const __m256 w = _mm256_set1_ps(width);
  const __m256 off = _mm256_set1_ps(offset);
  const __m256 low = _mm256_set1_ps(-1.0f);
  const __m256 top = _mm256_set1_ps(static_cast<float>(buckets));
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 minus_half = _mm256_set1_ps(-0.5f);
  const __m256i one = _mm256_set1_epi32(1);
  // Same operations as rounded_slot: max_ps(t, low) maps NaN to low, and
  // round_away(t) = trunc(t) ± 1 when |t − trunc(t)| ≥ 0.5 (the fraction is exact).
  auto slot_of = [&](__m256 v, __m256) {
    __m256 t = _mm256_sub_ps(_mm256_div_ps(v, w), off);
    t = _mm256_min_ps(_mm256_max_ps(t, low), top);
    const __m256 whole = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_sub_ps(t, whole);
    const __m256i up = _mm256_castps_si256(_mm256_cmp_ps(frac, half, _CMP_GE_OQ));
    const __m256i down = _mm256_castps_si256(_mm256_cmp_ps(frac, minus_half, _CMP_LE_OQ));
    const __m256i idx = _mm256_add_epi32(_mm256_sub_epi32(_mm256_cvttps_epi32(whole), up), down);
    return _mm256_add_epi32(idx, one);
  };
  int64_t done = 0;
  const bool finite = bin_avx2(x, n, h, slot_of, &done);
  return rounded_scalar(x + done, n - done, width, offset, h, buckets) && finite;
}

bool truncated_avx2(const float* x, int64_t n, float min, float width, SubHistograms& h, int64_t buckets) {
  const __m256 lo = _mm256_set1_ps(min);
  const __m256 w = _mm256_set1_ps(width);
  const __m256 zero = _mm256_setzero_ps();
  const __m256 last = _mm256_set1_ps(static_cast<float>(buckets - 1));
  const __m256i one = _mm256_set1_epi32(1);
  auto slot_of = [&](__m256 v, __m256 nonfinite) {
    __m256 t = _mm256_div_ps(_mm256_sub_ps(v, lo), w);
    t = _mm256_min_ps(_mm256_max_ps(t, zero), last);
    const __m256i idx = _mm256_add_epi32(_mm256_cvttps_epi32(t), one);
    return _mm256_andnot_si256(_mm256_castps_si256(nonfinite), idx);
  };
  int64_t done = 0;
  const bool finite = bin_avx2(x, n, h, slot_of, &done);
  return truncated_scalar(x + done, n - done, min, width, h, buckets) && finite;
}

}  // namespace
}  // namespace qsim::kernels::cpu

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // QSIM_HISTOGRAM_AVX2

namespace qsim::kernels::cpu {

bool histogram_rounded(const float* x, int64_t n, float width, float offset, int64_t* counts, int64_t buckets) {
  SubHistograms h(buckets);
  bool finite = true;
#if QSIM_HISTOGRAM_AVX2
  if (avx2_active()) {
    finite = rounded_avx2(x, n, width, offset, h, buckets);
  } else {
    finite = rounded_scalar(x, n, width, offset, h, buckets);
  }
#else
  finite = rounded_scalar(x, n, width, offset, h, buckets);
#endif
  h.flush(counts);
  return finite;
}

bool histogram_truncated(const float* x, int64_t n, float min, float width, int64_t* counts, int64_t buckets) {
  SubHistograms h(buckets);
  bool finite = true;
#if QSIM_HISTOGRAM_AVX2
  if (avx2_active() && width != 0.0f) {
    finite = truncated_avx2(x, n, min, width, h, buckets);
  } else {
    finite = truncated_scalar(x, n, min, width, h, buckets);
  }
#else
  finite = truncated_scalar(x, n, min, width, h, buckets);
#endif
  h.flush(counts);
  return finite;
}

}  // namespace qsim::kernels::cpu
