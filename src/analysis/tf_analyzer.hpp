#pragma once

// TF (min/max) analyzer, quantization-semantics.md §3.1: the running extremes of
// every batch, zero-widened, at least 0.01 wide, then GRID.

#include <cfloat>

#include "qsim/analysis/encoding_analyzer.hpp"

namespace qsim::analysis::detail {

class TfAnalyzer final : public EncodingAnalyzer {
 public:
  TfAnalyzer() : EncodingAnalyzer(AnalyzerKind::tf) {}

  /// The running extremes (batch extremes are float, widened to double).
  double min() const { return min_; }
  double max() const { return max_; }

 protected:
  void do_update_stats(const FloatBatch& batch) override;
  quant::Encoding do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const override;
  void do_reset() override;
  std::unique_ptr<EncodingAnalyzer> do_clone() const override;

 private:
  double min_ = DBL_MAX;
  double max_ = -DBL_MAX;
};

}  // namespace qsim::analysis::detail
