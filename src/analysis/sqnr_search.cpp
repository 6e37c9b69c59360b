#include "analysis/sqnr_search.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "analysis/float_ops.hpp"
#include "analysis/grid_steps.hpp"
#include "detail/check.hpp"

namespace qsim::analysis::detail {
namespace {

constexpr float kGamma = 3.0f;  // GAMMA: weight of the saturation noise

// _clampToObservedMinMax: false when the candidate's range covers the observed
// one on both sides; otherwise shrinks it to the observed range in place.
bool clamp_to_observed(float observed_min, float observed_max, float steps, float& delta, int& offset) {
  float test_min = delta * static_cast<float>(offset);
  float test_max = test_min + delta * steps;
  if (test_min < observed_min && test_max > observed_max) return false;
  test_min = std::max(observed_min, test_min);
  test_max = std::min(observed_max, test_max);
  delta = (test_max - test_min) / steps;
  if (delta == 0.0f) return false;  // empty range: AIMET divides 0 by 0 here
  offset = to_int(std::round(test_min / delta));
  return true;
}

}  // namespace

std::vector<Candidate> asymmetric_candidates(float lo, float hi, float steps) {
  const float observed_delta = (hi - lo) / steps;
  const int observed_offset = to_int(std::round(lo / observed_delta));
  const float observed_min = observed_delta * static_cast<float>(observed_offset);
  const float observed_max = observed_min + observed_delta * steps;
  std::vector<Candidate> out;
  for (float f = 1.0 / 16; f <= 1 + 1.0 / 16; f += 1.0 / 16) {
    float delta = f * observed_delta;  // carried over between offsets (quirk)
    for (int i = 0; i <= 20; ++i) {
      int offset = static_cast<int>(-steps + steps / 20.0 * i);
      if (clamp_to_observed(observed_min, observed_max, steps, delta, offset)) out.push_back({delta, offset});
    }
  }
  out.push_back({observed_delta, observed_offset});
  return out;
}

std::vector<Candidate> symmetric_candidates(float lo, float hi, float steps, bool unsigned_allowed) {
  float delta_max = 0.0f;
  int offset = 0;
  if (lo == 0.0f && unsigned_allowed) {
    delta_max = hi / steps;
  } else {
    const float abs_max = std::max(std::fabs(hi), std::fabs(lo));
    delta_max = (2 * abs_max) / steps;
    offset = to_int(std::floor(-steps / 2));
  }
  std::vector<Candidate> out;
  for (float f = 1.0 / 100; f <= 1 + 1.0 / 100; f += 1.0 / 100) out.push_back({f * delta_max, offset});
  return out;
}

float sqnr_cost(const PdfHistogram& pdf, int bitwidth, const Candidate& candidate) {
  const float delta = candidate.delta;
  const int offset = candidate.offset;
  const float min = delta * static_cast<float>(offset);
  const float steps = static_cast<float>(std::pow(2.0, bitwidth) - 1.0);
  const float max = delta * steps + min;
  const float start = pdf.start();
  const float width = pdf.bucket_width();
  const int first = bucket_index(min, start, width);
  const int last = bucket_index(max, start, width);
  const auto& p = pdf.pdf();
  auto midpoint = [&](int i) { return start + static_cast<float>(i) * width + width / 2; };

  float sat_low = 0;
  const float low_mid = midpoint(first);
  for (int i = 0; i < first; ++i) sat_low = add_square(sat_low, p[static_cast<size_t>(i)], midpoint(i) - low_mid);

  float sat_high = 0;
  const float high_mid = midpoint(last);
  for (int i = last; i < kBuckets; ++i) {
    sat_high = add_square(sat_high, p[static_cast<size_t>(i)], midpoint(i) - high_mid);
  }

  float quant = 0;
  for (int i = first; i < last; ++i) {
    const float value = midpoint(i);
    const int q = to_int(std::round(value / delta - static_cast<float>(offset)));
    const float dequantized = delta * static_cast<float>(static_cast<int64_t>(q) + offset);
    quant = add_square(quant, p[static_cast<size_t>(i)], value - dequantized);
  }
  return kGamma * (sat_low + sat_high) + quant;
}

Candidate best_candidate(const PdfHistogram& pdf, int bitwidth, const std::vector<Candidate>& candidates,
                         std::string_view where) {
  Candidate best{-1.0f, -1};
  float best_cost = FLT_MAX;
  for (const Candidate& c : candidates) {
    const float cost = sqnr_cost(pdf, bitwidth, c);
    if (cost < best_cost) {
      best_cost = cost;
      best = c;
    }
  }
  QSIM_CHECK(best.delta > 0.0f, ValueError,
             "{}: every SQNR candidate's cost overflows float32 (range [{}, {}] too large)", where, pdf.x_left()[0],
             pdf.x_left()[kBuckets - 1]);
  return best;
}

quant::Encoding sqnr_encoding(const PdfHistogram& pdf, int bitwidth, quant::Symmetry symmetry,
                              std::string_view where) {
  const GridFlags flags = grid_flags(symmetry);
  const FloatRange range = pdf.original_range();
  const float steps = float_steps(bitwidth, flags.symmetric && flags.strict);
  const std::vector<Candidate> candidates =
      flags.symmetric ? symmetric_candidates(range.min, range.max, steps, flags.unsigned_allowed)
                      : asymmetric_candidates(range.min, range.max, steps);
  const Candidate best = best_candidate(pdf, bitwidth, candidates, where);
  quant::Encoding e;
  e.bitwidth = bitwidth;
  e.delta = best.delta;
  e.offset = best.offset;
  e.min = best.delta * static_cast<float>(best.offset);
  e.max = static_cast<double>(best.delta * steps) + e.min;
  return e;
}

}  // namespace qsim::analysis::detail
