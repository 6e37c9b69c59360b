#include "kernels/cpu/fake_quant_cpu.hpp"

#include <algorithm>
#include <atomic>
#include <type_traits>

#include "kernels/fake_quant_scalar.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QSIM_KERNELS_AVX2 1
#include <immintrin.h>
#else
#define QSIM_KERNELS_AVX2 0
#endif

namespace qsim::kernels::cpu {
namespace {

// Calls body(c, i0, i1) for each run [i0, i1) of [begin, end) that lies in one channel.
template <typename Body>
void for_each_segment(int64_t begin, int64_t end, ChannelLayout layout, Body&& body) {
  int64_t i = begin;
  while (i < end) {
    const int64_t row = i / layout.inner;
    const int64_t stop = std::min(end, (row + 1) * layout.inner);
    body(row % layout.channels, i, stop);
    i = stop;
  }
}

// The three elementwise maps, as scalar functors (the reference and the loop tails).
struct StaticQdqScalar {
  StaticGrid g;
  float operator()(float x, int64_t c) const { return static_qdq(x, g.lo[c], g.hi[c], g.delta[c], g.offset[c]); }
};

struct StaticCodesScalar {
  StaticGrid g;
  const float* shift;
  float operator()(float x, int64_t c) const {
    return static_code(x, g.lo[c], g.hi[c], g.delta[c], g.offset[c]) - shift[c];
  }
};

struct LearnedQdqScalar {
  LearnedGrid g;
  float operator()(float x, int64_t c) const {
    return learned_element(x, g.delta[c], g.inv_delta[c], g.offset[c], g.steps, g.multiply).y;
  }
};

template <typename Op>
void map_scalar(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, const Op& op) {
  for_each_segment(begin, end, layout, [&](int64_t c, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] = op(x[i], c);
  });
}

void ste_scalar(const float* y, const float* g, float* gi, int64_t begin, int64_t end, ChannelLayout layout,
                const float* min, const float* max) {
  for_each_segment(begin, end, layout, [&](int64_t c, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) gi[i] = static_ste_grad(y[i], g[i], min[c], max[c]);
  });
}

void learned_backward_scalar(const float* x, const float* g, float* gi, int64_t begin, int64_t end,
                             ChannelLayout layout, LearnedGrid grid, bool offset_in_sum, double* sum_s,
                             double* sum_z) {
  for_each_segment(begin, end, layout, [&](int64_t c, int64_t i0, int64_t i1) {
    const float sum_offset = offset_in_sum ? grid.offset[c] : 0.0f;
    double s = 0.0;
    double z = 0.0;
    for (int64_t i = i0; i < i1; ++i) {
      const LearnedElement e =
          learned_element(x[i], grid.delta[c], grid.inv_delta[c], grid.offset[c], grid.steps, grid.multiply);
      gi[i] = g[i] * e.k;
      s += (static_cast<double>(e.q + sum_offset) - static_cast<double>(e.k) * e.t) * g[i];
      z += static_cast<double>((1.0f - e.k) * g[i]);
    }
    sum_s[c] += s;
    sum_z[c] += z;
  });
}

}  // namespace
}  // namespace qsim::kernels::cpu

#if QSIM_KERNELS_AVX2
// Everything up to pop_options is compiled for AVX2 and only called after the
// run-time check; it lives in an anonymous namespace so no AVX2 copy of an inline
// function can leak into the rest of the program.
#pragma GCC push_options
#pragma GCC target("avx2")
// The __m256 helpers below are internal and only called from AVX2 code, so the
// ABI note about passing vectors to non-AVX callers does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace qsim::kernels::cpu {
namespace {
namespace avx2 {

constexpr int64_t kWidth = 8;

inline __m256 round_away(__m256 t) {
  const __m256 whole = _mm256_round_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_and_ps(t, _mm256_set1_ps(-0.0f));
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(t, whole));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 away = _mm256_add_ps(whole, _mm256_or_ps(sign, _mm256_set1_ps(1.0f)));
  return _mm256_blendv_ps(whole, away, up);
}

inline __m256 round_even(__m256 t) { return _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

// max_ps(a, b) is a > b ? a : b and min_ps(a, b) is a < b ? a : b: with the
// parameter first they match the scalar ternaries exactly, NaN included.
inline __m256 static_code(__m256 x, __m256 lo, __m256 hi, __m256 delta, __m256 offset) {
  const __m256 c = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
  return round_away(_mm256_sub_ps(_mm256_div_ps(c, delta), offset));
}

struct StaticPack {
  __m256 lo, hi, delta, offset, shift;
};

struct StaticQdq {
  StaticGrid g;
  StaticQdqScalar scalar;
  StaticPack broadcast(int64_t c) const {
    return {_mm256_set1_ps(g.lo[c]), _mm256_set1_ps(g.hi[c]), _mm256_set1_ps(g.delta[c]),
            _mm256_set1_ps(g.offset[c]), _mm256_setzero_ps()};
  }
  StaticPack load(int64_t c) const {
    return {_mm256_loadu_ps(g.lo + c), _mm256_loadu_ps(g.hi + c), _mm256_loadu_ps(g.delta + c),
            _mm256_loadu_ps(g.offset + c), _mm256_setzero_ps()};
  }
  __m256 apply(const StaticPack& p, __m256 x) const {
    return _mm256_mul_ps(p.delta, _mm256_add_ps(static_code(x, p.lo, p.hi, p.delta, p.offset), p.offset));
  }
};

struct StaticCodes {
  StaticGrid g;
  const float* shift;
  StaticCodesScalar scalar;
  StaticPack broadcast(int64_t c) const {
    return {_mm256_set1_ps(g.lo[c]), _mm256_set1_ps(g.hi[c]), _mm256_set1_ps(g.delta[c]),
            _mm256_set1_ps(g.offset[c]), _mm256_set1_ps(shift[c])};
  }
  StaticPack load(int64_t c) const {
    return {_mm256_loadu_ps(g.lo + c), _mm256_loadu_ps(g.hi + c), _mm256_loadu_ps(g.delta + c),
            _mm256_loadu_ps(g.offset + c), _mm256_loadu_ps(shift + c)};
  }
  __m256 apply(const StaticPack& p, __m256 x) const {
    return _mm256_sub_ps(static_code(x, p.lo, p.hi, p.delta, p.offset), p.shift);
  }
};

struct LearnedPack {
  __m256 delta, inv_delta, offset;
};

struct LearnedVec {
  __m256 t, q, y, k;
};

inline LearnedVec learned_element(__m256 x, const LearnedPack& p, __m256 steps, bool multiply) {
  LearnedVec e;
  e.t = multiply ? _mm256_mul_ps(x, p.inv_delta) : _mm256_div_ps(x, p.delta);
  const __m256 r = _mm256_sub_ps(round_even(e.t), p.offset);
  const __m256 zero = _mm256_setzero_ps();
  // Scalar: q = r < 0 ? 0 : r; q = q > N ? N : q.
  e.q = _mm256_min_ps(steps, _mm256_max_ps(zero, r));
  e.y = _mm256_mul_ps(_mm256_add_ps(e.q, p.offset), p.delta);
  const __m256 in_range = _mm256_and_ps(_mm256_cmp_ps(r, zero, _CMP_GE_OQ), _mm256_cmp_ps(r, steps, _CMP_LE_OQ));
  e.k = _mm256_and_ps(in_range, _mm256_set1_ps(1.0f));
  return e;
}

struct LearnedQdq {
  LearnedGrid g;
  LearnedQdqScalar scalar;
  LearnedPack broadcast(int64_t c) const {
    return {_mm256_set1_ps(g.delta[c]), _mm256_set1_ps(g.inv_delta[c]), _mm256_set1_ps(g.offset[c])};
  }
  LearnedPack load(int64_t c) const {
    return {_mm256_loadu_ps(g.delta + c), _mm256_loadu_ps(g.inv_delta + c), _mm256_loadu_ps(g.offset + c)};
  }
  __m256 apply(const LearnedPack& p, __m256 x) const {
    return learned_element(x, p, _mm256_set1_ps(g.steps), g.multiply).y;
  }
};

// Elementwise map: broadcast parameters per channel run; when channels are the
// innermost axis (inner == 1), load 8 channels' parameters at once instead.
template <typename Op>
void map(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, const Op& op) {
  if (layout.inner == 1 && layout.channels > 1) {
    int64_t i = begin;
    while (i < end) {
      int64_t c = i % layout.channels;
      const int64_t row_end = std::min(end, i + (layout.channels - c));
      for (; i + kWidth <= row_end; i += kWidth, c += kWidth) {
        _mm256_storeu_ps(y + i, op.apply(op.load(c), _mm256_loadu_ps(x + i)));
      }
      for (; i < row_end; ++i, ++c) y[i] = op.scalar(x[i], c);
    }
    return;
  }
  for_each_segment(begin, end, layout, [&](int64_t c, int64_t i0, int64_t i1) {
    const auto p = op.broadcast(c);
    int64_t i = i0;
    for (; i + 2 * kWidth <= i1; i += 2 * kWidth) {
      const __m256 a = op.apply(p, _mm256_loadu_ps(x + i));
      const __m256 b = op.apply(p, _mm256_loadu_ps(x + i + kWidth));
      _mm256_storeu_ps(y + i, a);
      _mm256_storeu_ps(y + i + kWidth, b);
    }
    for (; i + kWidth <= i1; i += kWidth) _mm256_storeu_ps(y + i, op.apply(p, _mm256_loadu_ps(x + i)));
    for (; i < i1; ++i) y[i] = op.scalar(x[i], c);
  });
}

inline __m256 ste(__m256 y, __m256 g, __m256 lo, __m256 hi) {
  const __m256 inside = _mm256_and_ps(_mm256_cmp_ps(y, lo, _CMP_GE_OQ), _mm256_cmp_ps(y, hi, _CMP_LE_OQ));
  return _mm256_mul_ps(g, _mm256_and_ps(inside, _mm256_set1_ps(1.0f)));
}

void ste_backward(const float* y, const float* g, float* gi, int64_t begin, int64_t end, ChannelLayout layout,
                  const float* min, const float* max) {
  if (layout.inner == 1 && layout.channels > 1) {
    int64_t i = begin;
    while (i < end) {
      int64_t c = i % layout.channels;
      const int64_t row_end = std::min(end, i + (layout.channels - c));
      for (; i + kWidth <= row_end; i += kWidth, c += kWidth) {
        _mm256_storeu_ps(gi + i, ste(_mm256_loadu_ps(y + i), _mm256_loadu_ps(g + i), _mm256_loadu_ps(min + c),
                                     _mm256_loadu_ps(max + c)));
      }
      for (; i < row_end; ++i, ++c) gi[i] = static_ste_grad(y[i], g[i], min[c], max[c]);
    }
    return;
  }
  for_each_segment(begin, end, layout, [&](int64_t c, int64_t i0, int64_t i1) {
    const __m256 lo = _mm256_set1_ps(min[c]);
    const __m256 hi = _mm256_set1_ps(max[c]);
    int64_t i = i0;
    for (; i + kWidth <= i1; i += kWidth) {
      _mm256_storeu_ps(gi + i, ste(_mm256_loadu_ps(y + i), _mm256_loadu_ps(g + i), lo, hi));
    }
    for (; i < i1; ++i) gi[i] = static_ste_grad(y[i], g[i], min[c], max[c]);
  });
}

// The backward's per-element sums, in double: s = (q + o' − k·t)·g, z = (1 − k)·g,
// returned as two lanes-of-4 halves each.
//
// When o' is the grid's offset o (or o = 0), d = q + o' − k·t is formed in float,
// where it is exact, so its product with g in double (two floats: exact) equals
// the scalar path's double arithmetic bit for bit. k = 0: d = q + o', a float.
// k = 1: q + o' = (round(t) − o) + o is round(t) (up to float rounding of both
// when |t| > 2^24), so d = round(t) − t: for |t| ≥ 1 the two are within a factor 2
// of each other (Sterbenz: exact); for |t| < 1 round(t) is 0 (d = −t) or ±1 with
// |t| ≥ 0.5 (Sterbenz again). NaN/Inf t give NaN through 0·t as in double. With
// another o' (o ≠ 0 and the offset left out of the sum) d is formed in double.
struct SumTerms {
  __m256d s_lo, s_hi, z_lo, z_hi;
};

inline __m256d low_half(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d high_half(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

template <bool kFloatD>
inline SumTerms backward_terms(const LearnedVec& e, __m256 g, __m256 sum_offset) {
  const __m256 base = _mm256_add_ps(e.q, sum_offset);
  const __m256 z = _mm256_mul_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), e.k), g);
  SumTerms out;
  if constexpr (kFloatD) {
    const __m256 d = _mm256_sub_ps(base, _mm256_mul_ps(e.k, e.t));
    out.s_lo = _mm256_mul_pd(low_half(d), low_half(g));
    out.s_hi = _mm256_mul_pd(high_half(d), high_half(g));
  } else {
    out.s_lo = _mm256_mul_pd(_mm256_sub_pd(low_half(base), _mm256_mul_pd(low_half(e.k), low_half(e.t))), low_half(g));
    out.s_hi =
        _mm256_mul_pd(_mm256_sub_pd(high_half(base), _mm256_mul_pd(high_half(e.k), high_half(e.t))), high_half(g));
  }
  out.z_lo = low_half(z);
  out.z_hi = high_half(z);
  return out;
}

inline double horizontal_sum(__m256d a, __m256d b) {
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(a, b));
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

// One channel's run [i0, i1) of the per-tensor backward, whole vectors only;
// returns where the scalar tail starts. Every value the loop reads is a local
// (no reload through the captured structures the stores to gi might alias), and
// the scale mode is a template argument, not a per-iteration branch.
template <bool kMultiply, bool kFloatD>
int64_t segment_backward(const float* x, const float* g, float* gi, int64_t i0, int64_t i1, LearnedPack p,
                         __m256 steps, __m256 sum_offset, double& sum_s, double& sum_z) {
  __m256d s_lo = _mm256_setzero_pd(), s_hi = _mm256_setzero_pd();
  __m256d z_lo = _mm256_setzero_pd(), z_hi = _mm256_setzero_pd();
  int64_t i = i0;
  for (; i + kWidth <= i1; i += kWidth) {
    const LearnedVec e = learned_element(_mm256_loadu_ps(x + i), p, steps, kMultiply);
    const __m256 gv = _mm256_loadu_ps(g + i);
    _mm256_storeu_ps(gi + i, _mm256_mul_ps(gv, e.k));
    const SumTerms t = backward_terms<kFloatD>(e, gv, sum_offset);
    s_lo = _mm256_add_pd(s_lo, t.s_lo);
    s_hi = _mm256_add_pd(s_hi, t.s_hi);
    z_lo = _mm256_add_pd(z_lo, t.z_lo);
    z_hi = _mm256_add_pd(z_hi, t.z_hi);
  }
  sum_s = horizontal_sum(s_lo, s_hi);
  sum_z = horizontal_sum(z_lo, z_hi);
  return i;
}

void learned_backward(const float* x, const float* g, float* gi, int64_t begin, int64_t end, ChannelLayout layout,
                      LearnedGrid grid, bool offset_in_sum, double* sum_s, double* sum_z) {
  const LearnedQdq op{grid, {grid}};
  const __m256 steps = _mm256_set1_ps(grid.steps);
  const __m256 use_offset = offset_in_sum ? _mm256_castsi256_ps(_mm256_set1_epi32(-1)) : _mm256_setzero_ps();
  const bool float_d = offset_in_sum || std::all_of(grid.offset, grid.offset + layout.channels,
                                                     [](float o) { return o == 0.0f; });
  if (layout.inner == 1 && layout.channels > 1) {
    int64_t i = begin;
    while (i < end) {
      int64_t c = i % layout.channels;
      const int64_t row_end = std::min(end, i + (layout.channels - c));
      for (; i + kWidth <= row_end; i += kWidth, c += kWidth) {
        const LearnedPack p = op.load(c);
        const LearnedVec e = learned_element(_mm256_loadu_ps(x + i), p, steps, grid.multiply);
        const __m256 gv = _mm256_loadu_ps(g + i);
        _mm256_storeu_ps(gi + i, _mm256_mul_ps(gv, e.k));
        const __m256 sum_offset = _mm256_and_ps(use_offset, p.offset);
        const SumTerms t = float_d ? backward_terms<true>(e, gv, sum_offset) : backward_terms<false>(e, gv, sum_offset);
        _mm256_storeu_pd(sum_s + c, _mm256_add_pd(_mm256_loadu_pd(sum_s + c), t.s_lo));
        _mm256_storeu_pd(sum_s + c + 4, _mm256_add_pd(_mm256_loadu_pd(sum_s + c + 4), t.s_hi));
        _mm256_storeu_pd(sum_z + c, _mm256_add_pd(_mm256_loadu_pd(sum_z + c), t.z_lo));
        _mm256_storeu_pd(sum_z + c + 4, _mm256_add_pd(_mm256_loadu_pd(sum_z + c + 4), t.z_hi));
      }
      if (i < row_end) {
        learned_backward_scalar(x, g, gi, i, row_end, layout, grid, offset_in_sum, sum_s, sum_z);
        i = row_end;
      }
    }
    return;
  }
  for_each_segment(begin, end, layout, [&](int64_t c, int64_t i0, int64_t i1) {
    const LearnedPack p = op.broadcast(c);
    const __m256 sum_offset = _mm256_and_ps(use_offset, p.offset);
    double s = 0.0, z = 0.0;
    const auto run = [&](auto multiply, auto exact_float) {
      return segment_backward<decltype(multiply)::value, decltype(exact_float)::value>(x, g, gi, i0, i1, p, steps,
                                                                                      sum_offset, s, z);
    };
    using yes = std::true_type;
    using no = std::false_type;
    const int64_t i = grid.multiply ? (float_d ? run(yes{}, yes{}) : run(yes{}, no{}))
                                    : (float_d ? run(no{}, yes{}) : run(no{}, no{}));
    sum_s[c] += s;
    sum_z[c] += z;
    if (i < i1) learned_backward_scalar(x, g, gi, i, i1, layout, grid, offset_in_sum, sum_s, sum_z);
  });
}

}  // namespace avx2
}  // namespace
}  // namespace qsim::kernels::cpu

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // QSIM_KERNELS_AVX2

#if QSIM_KERNELS_AVX2
// The static and learned forwards once more on 16 lanes, where the CPU has AVX-512F.
// Each is the AVX2 loop's sequence of IEEE operations (the same divide, rounding
// and operand order), so the results are bit-identical; on a CPU with full-width
// AVX-512 units this halves the cost of the divide that bounds the loop. One
// parameter set per segment, or, with channels innermost, one per lane.
#pragma GCC push_options
#pragma GCC target("avx512f")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
// GCC 12's own intrinsics (_mm512_undefined_ps, a deliberate self-initialisation)
// trip this warning inside <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace qsim::kernels::cpu {
namespace {
namespace avx512 {

constexpr int64_t kWidth = 16;

inline __m512 round_away(__m512 t) {
  const __m512 whole = _mm512_roundscale_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(t, whole));
  const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(t), _mm512_set1_epi32(INT32_MIN));
  const __m512 away = _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_castps_si512(_mm512_set1_ps(1.0f))));
  return _mm512_mask_add_ps(whole, up, whole, away);
}

// round_away for t > −0.5: there t − trunc(t) ≥ 0.5 only when t ≥ 0.5, so "away"
// is always +1 and the fraction needs no abs. For t in (−0.5, 0) both give
// trunc(t) = −0, NaN stays NaN: bit-identical on that domain, two operations fewer.
inline __m512 round_away_above_minus_half(__m512 t) {
  const __m512 whole = _mm512_roundscale_ps(t, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_sub_ps(t, whole), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm512_mask_add_ps(whole, up, whole, _mm512_set1_ps(1.0f));
}

// Whether every clamped input of channel c has t = c/Δ − o > −0.5: for Δ > 0 the
// smallest t is the one of lo (division and subtraction round monotonically). True
// for the grids the analyzers produce (lo = Δ·o); an encoding read from a file need
// not be.
inline bool codes_above_minus_half(StaticGrid g, int64_t c) {
  return g.delta[c] > 0.0f && g.lo[c] / g.delta[c] - g.offset[c] > -0.5f;
}

template <bool kAboveMinusHalf>
struct StaticQdq {
  __m512 lo, hi, delta, offset;
  StaticQdq(__m512 lo_, __m512 hi_, __m512 delta_, __m512 offset_)
      : lo(lo_), hi(hi_), delta(delta_), offset(offset_) {}
  StaticQdq(StaticGrid g, int64_t c)
      : StaticQdq(_mm512_set1_ps(g.lo[c]), _mm512_set1_ps(g.hi[c]), _mm512_set1_ps(g.delta[c]),
                  _mm512_set1_ps(g.offset[c])) {}
  // Channels c .. c+15 in the lanes of `lanes`; the others read nothing and get
  // Δ = 1, so that their (unstored) c/Δ raises nothing.
  static StaticQdq lanes(StaticGrid g, int64_t c, __mmask16 lanes) {
    return {_mm512_maskz_loadu_ps(lanes, g.lo + c), _mm512_maskz_loadu_ps(lanes, g.hi + c),
            _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), lanes, g.delta + c), _mm512_maskz_loadu_ps(lanes, g.offset + c)};
  }
  __m512 operator()(__m512 x) const {
    const __m512 c = _mm512_min_ps(hi, _mm512_max_ps(lo, x));
    const __m512 t = _mm512_sub_ps(_mm512_div_ps(c, delta), offset);
    const __m512 code = kAboveMinusHalf ? round_away_above_minus_half(t) : round_away(t);
    return _mm512_mul_ps(delta, _mm512_add_ps(code, offset));
  }
};

struct LearnedQdq {
  __m512 delta, inv_delta, offset, steps;
  bool multiply;
  LearnedQdq(__m512 delta_, __m512 inv_delta_, __m512 offset_, float steps_, bool multiply_)
      : delta(delta_), inv_delta(inv_delta_), offset(offset_), steps(_mm512_set1_ps(steps_)), multiply(multiply_) {}
  LearnedQdq(LearnedGrid g, int64_t c)
      : LearnedQdq(_mm512_set1_ps(g.delta[c]), _mm512_set1_ps(g.inv_delta[c]), _mm512_set1_ps(g.offset[c]), g.steps,
                   g.multiply) {}
  static LearnedQdq lanes(LearnedGrid g, int64_t c, __mmask16 lanes) {
    // Masked-off lanes get Δ = 1, as in StaticQdq::lanes.
    return {_mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), lanes, g.delta + c), _mm512_maskz_loadu_ps(lanes, g.inv_delta + c),
            _mm512_maskz_loadu_ps(lanes, g.offset + c), g.steps, g.multiply};
  }
  __m512 operator()(__m512 x) const {
    const __m512 t = multiply ? _mm512_mul_ps(x, inv_delta) : _mm512_div_ps(x, delta);
    const __m512 r = _mm512_sub_ps(_mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), offset);
    const __m512 q = _mm512_min_ps(steps, _mm512_max_ps(_mm512_setzero_ps(), r));
    return _mm512_mul_ps(_mm512_add_ps(q, offset), delta);
  }
};

inline __mmask16 first_lanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

// y[i0, i1) = op(x[i0, i1)), the last partial vector under a mask (masked-off
// lanes are neither read nor written).
template <typename Op>
void map_run(const float* x, float* y, int64_t i0, int64_t i1, const Op& op) {
  int64_t i = i0;
  for (; i + 2 * kWidth <= i1; i += 2 * kWidth) {
    const __m512 a = op(_mm512_loadu_ps(x + i));
    const __m512 b = op(_mm512_loadu_ps(x + i + kWidth));
    _mm512_storeu_ps(y + i, a);
    _mm512_storeu_ps(y + i + kWidth, b);
  }
  for (; i + kWidth <= i1; i += kWidth) _mm512_storeu_ps(y + i, op(_mm512_loadu_ps(x + i)));
  if (i < i1) {
    const __mmask16 rest = first_lanes(i1 - i);
    _mm512_mask_storeu_ps(y + i, rest, op(_mm512_maskz_loadu_ps(rest, x + i)));
  }
}

// Channels innermost (inner == 1): element i is channel i % channels, so each
// vector loads its 16 lanes' parameters; rows restart at channel 0.
template <typename Op, typename Grid>
void map_lanes(const float* x, float* y, int64_t begin, int64_t end, int64_t channels, Grid grid) {
  int64_t i = begin;
  while (i < end) {
    int64_t c = i % channels;
    const int64_t row_end = std::min(end, i + (channels - c));
    for (; i < row_end; i += kWidth, c += kWidth) {
      const __mmask16 lanes = first_lanes(std::min<int64_t>(kWidth, row_end - i));
      const Op op = Op::lanes(grid, c, lanes);
      _mm512_mask_storeu_ps(y + i, lanes, op(_mm512_maskz_loadu_ps(lanes, x + i)));
    }
    i = row_end;
  }
}

void map_static(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid) {
  if (layout.inner == 1 && layout.channels > 1) {
    return map_lanes<StaticQdq<false>>(x, y, begin, end, layout.channels, grid);
  }
  for_each_segment(begin, end, layout, [&](int64_t c, int64_t i0, int64_t i1) {
    if (codes_above_minus_half(grid, c)) return map_run(x, y, i0, i1, StaticQdq<true>(grid, c));
    map_run(x, y, i0, i1, StaticQdq<false>(grid, c));
  });
}

void map_learned(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid) {
  if (layout.inner == 1 && layout.channels > 1) {
    return map_lanes<LearnedQdq>(x, y, begin, end, layout.channels, grid);
  }
  for_each_segment(begin, end, layout,
                   [&](int64_t c, int64_t i0, int64_t i1) { map_run(x, y, i0, i1, LearnedQdq(grid, c)); });
}

}  // namespace avx512
}  // namespace
}  // namespace qsim::kernels::cpu

#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // QSIM_KERNELS_AVX2

namespace qsim::kernels::cpu {
namespace {

bool cpu_has_avx2() {
#if QSIM_KERNELS_AVX2
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if QSIM_KERNELS_AVX2
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

std::atomic<bool>& avx2_switch() {
  static std::atomic<bool> on{cpu_has_avx2()};
  return on;
}

std::atomic<bool>& avx512_switch() {
  static std::atomic<bool> on{cpu_has_avx512()};
  return on;
}

}  // namespace

bool avx2_active() { return avx2_switch().load(std::memory_order_relaxed); }

void set_avx2_enabled(bool enabled) { avx2_switch().store(enabled && cpu_has_avx2(), std::memory_order_relaxed); }

bool avx512_active() { return avx2_active() && avx512_switch().load(std::memory_order_relaxed); }

void set_avx512_enabled(bool enabled) {
  avx512_switch().store(enabled && cpu_has_avx512(), std::memory_order_relaxed);
}

void static_forward(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid) {
#if QSIM_KERNELS_AVX2
  if (avx512_active()) return avx512::map_static(x, y, begin, end, layout, grid);
  if (avx2_active()) return avx2::map(x, y, begin, end, layout, avx2::StaticQdq{grid, {grid}});
#endif
  map_scalar(x, y, begin, end, layout, StaticQdqScalar{grid});
}

void static_codes(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                  const float* shift) {
#if QSIM_KERNELS_AVX2
  if (avx2_active()) return avx2::map(x, y, begin, end, layout, avx2::StaticCodes{grid, shift, {grid, shift}});
#endif
  map_scalar(x, y, begin, end, layout, StaticCodesScalar{grid, shift});
}

void static_ste_backward(const float* y, const float* g, float* gi, int64_t begin, int64_t end,
                         ChannelLayout layout, const float* min, const float* max) {
#if QSIM_KERNELS_AVX2
  if (avx2_active()) return avx2::ste_backward(y, g, gi, begin, end, layout, min, max);
#endif
  ste_scalar(y, g, gi, begin, end, layout, min, max);
}

void learned_forward(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid) {
#if QSIM_KERNELS_AVX2
  if (avx512_active()) return avx512::map_learned(x, y, begin, end, layout, grid);
  if (avx2_active()) return avx2::map(x, y, begin, end, layout, avx2::LearnedQdq{grid, {grid}});
#endif
  map_scalar(x, y, begin, end, layout, LearnedQdqScalar{grid});
}

void learned_backward(const float* x, const float* g, float* gi, int64_t begin, int64_t end, ChannelLayout layout,
                      LearnedGrid grid, bool offset_in_sum, double* sum_s, double* sum_z) {
#if QSIM_KERNELS_AVX2
  if (avx2_active()) return avx2::learned_backward(x, g, gi, begin, end, layout, grid, offset_in_sum, sum_s, sum_z);
#endif
  learned_backward_scalar(x, g, gi, begin, end, layout, grid, offset_in_sum, sum_s, sum_z);
}

}  // namespace qsim::kernels::cpu
