#include "analysis/percentile_analyzer.hpp"

#include <algorithm>
#include <array>

#include "analysis/grid_steps.hpp"
#include "detail/check.hpp"

namespace qsim::analysis::detail {

void PercentileAnalyzer::do_update_stats(const FloatBatch& batch) { pdf_.update(batch, where()); }

FloatRange PercentileAnalyzer::percentile_range() const {
  const FloatRange original = pdf_.original_range();
  if (percentile_ == 100.0f) return original;

  const auto& x_left = pdf_.x_left();
  const float width = pdf_.bucket_width();
  const float hist_end = static_cast<float>(x_left[kBuckets - 1] + width);
  float lo = pdf_.start();
  float hi = hist_end;

  std::array<double, kBuckets> cdf = pdf_.pdf();
  for (size_t i = 1; i < kBuckets; ++i) cdf[i] += cdf[i - 1];

  const float left = 1 - percentile_ / 100;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (cdf[i] >= left) {
      lo = static_cast<float>(x_left[i]);
      break;
    }
  }
  const float right = percentile_ / 100;
  for (size_t i = kBuckets; i-- > 0;) {
    if (cdf[i] < right) {
      hi = i + 1 < kBuckets ? static_cast<float>(x_left[i + 1]) : hist_end;
      break;
    }
  }
  if (lo == hi) hi += width;
  return {lo, hi};
}

quant::Encoding PercentileAnalyzer::do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const {
  const GridFlags flags = grid_flags(symmetry);
  if (!pdf_.initialized()) return all_zero_encoding(bitwidth, float_steps(bitwidth, flags.symmetric && flags.strict));
  const FloatRange range = percentile_range();
  const float lo = std::min(range.min, 0.0f);
  const float hi = std::max(range.max, 0.0f);
  QSIM_CHECK(hi > lo, ValueError,
             "{}: percentile {} gives the range [{}, {}] (upper percentile below the lower one), "
             "which is empty once widened to contain 0",
             name(), percentile_, range.min, range.max);
  return quant::make_encoding(lo, hi, bitwidth, symmetry);
}

std::unique_ptr<EncodingAnalyzer> PercentileAnalyzer::do_clone() const {
  return std::make_unique<PercentileAnalyzer>(*this);
}

}  // namespace qsim::analysis::detail
