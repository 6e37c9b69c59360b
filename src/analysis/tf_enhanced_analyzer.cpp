#include "analysis/tf_enhanced_analyzer.hpp"

#include "analysis/grid_steps.hpp"
#include "analysis/sqnr_search.hpp"

namespace qsim::analysis::detail {

void TfEnhancedAnalyzer::do_update_stats(const FloatBatch& batch) { pdf_.update(batch, where()); }

quant::Encoding TfEnhancedAnalyzer::do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const {
  if (!pdf_.initialized()) return all_zero_encoding(bitwidth, float_steps(bitwidth, false));
  return sqnr_encoding(pdf_, bitwidth, symmetry, name());
}

std::unique_ptr<EncodingAnalyzer> TfEnhancedAnalyzer::do_clone() const {
  return std::make_unique<TfEnhancedAnalyzer>(*this);
}

}  // namespace qsim::analysis::detail
