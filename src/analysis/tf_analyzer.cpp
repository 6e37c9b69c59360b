#include "analysis/tf_analyzer.hpp"

#include <algorithm>

#include "analysis/batch_stats.hpp"
#include "detail/check.hpp"

namespace qsim::analysis::detail {

void TfAnalyzer::do_update_stats(const FloatBatch& batch) {
  const kernels::cpu::MinMax mm = batch_minmax(batch);
  QSIM_CHECK(mm.finite, ValueError, "{}: batch contains NaN or Inf values", where());
  min_ = std::min(min_, static_cast<double>(mm.min));
  max_ = std::max(max_, static_cast<double>(mm.max));
}

quant::Encoding TfAnalyzer::do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const {
  // AIMET's argument order: min(0, smin) keeps +0 for a −0 minimum.
  const double lo = std::min(0.0, min_);
  double hi = std::max(0.0, max_);
  hi = std::max(hi, lo + quant::kMinRange);
  return quant::make_encoding(lo, hi, bitwidth, symmetry);
}

void TfAnalyzer::do_reset() {
  min_ = DBL_MAX;
  max_ = -DBL_MAX;
}

std::unique_ptr<EncodingAnalyzer> TfAnalyzer::do_clone() const { return std::make_unique<TfAnalyzer>(*this); }

}  // namespace qsim::analysis::detail
