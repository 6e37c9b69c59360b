#include "kernels/cpu/quantize_u8.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/fake_quant_cpu.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define QSIM_QUANTIZE_U8_AVX2 1
#else
#define QSIM_QUANTIZE_U8_AVX2 0
#endif

namespace qsim::kernels::cpu {
namespace {

// From element `from` on; the AVX2 paths below do the same operations in the same
// order, eight at a time (division, round half to even, add, clamp), so they agree
// bit for bit.
void quantize_scalar(const float* x, uint8_t* q, int64_t from, int64_t n, float delta, int32_t zero_point) {
  const float zp = static_cast<float>(zero_point);
  for (int64_t i = from; i < n; ++i) {
    // nearbyint: round half to even under the default rounding mode, as ATen's quantizer.
    const float code = std::nearbyint(x[i] / delta) + zp;
    q[i] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, code)));  // NaN → 0
  }
}

void dequantize_scalar(const uint8_t* q, float* y, int64_t from, int64_t n, float delta, int32_t zero_point) {
  for (int64_t i = from; i < n; ++i) y[i] = static_cast<float>(static_cast<int32_t>(q[i]) - zero_point) * delta;
}

}  // namespace
}  // namespace qsim::kernels::cpu

#if QSIM_QUANTIZE_U8_AVX2
#pragma GCC push_options
#pragma GCC target("avx2")
namespace qsim::kernels::cpu {
namespace {

// Returns the first element the vector loop did not do.
int64_t quantize_avx2(const float* x, uint8_t* q, int64_t n, float delta, int32_t zero_point) {
  const __m256 d = _mm256_set1_ps(delta), zp = _mm256_set1_ps(static_cast<float>(zero_point));
  const __m256 lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(255.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(x + i), d), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, zp), lo), hi);  // max_ps(NaN, 0) = 0, as the scalar loop
    const __m256i codes = _mm256_cvtps_epi32(v);
    const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), _mm_packus_epi16(words, words));
  }
  return i;
}

int64_t dequantize_avx2(const uint8_t* q, float* y, int64_t n, float delta, int32_t zero_point) {
  const __m256 d = _mm256_set1_ps(delta);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i codes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i)));
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(codes, zp)), d));
  }
  return i;
}

}  // namespace
}  // namespace qsim::kernels::cpu
#pragma GCC pop_options
#endif

namespace qsim::kernels::cpu {

void quantize_u8(const float* x, uint8_t* q, int64_t n, float delta, int32_t zero_point) {
  int64_t from = 0;
#if QSIM_QUANTIZE_U8_AVX2
  if (avx2_active()) from = quantize_avx2(x, q, n, delta, zero_point);
#endif
  quantize_scalar(x, q, from, n, delta, zero_point);
}

void dequantize_u8(const uint8_t* q, float* y, int64_t n, float delta, int32_t zero_point) {
  int64_t from = 0;
#if QSIM_QUANTIZE_U8_AVX2
  if (avx2_active()) from = dequantize_avx2(q, y, n, delta, zero_point);
#endif
  dequantize_scalar(q, y, from, n, delta, zero_point);
}

}  // namespace qsim::kernels::cpu
