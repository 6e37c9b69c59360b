#pragma once

// Percentile analyzer, quantization-semantics.md §3.4: the P-th percentile range
// of the shared 512-bucket histogram, zero-widened, then GRID. P = 100 uses the
// histogram's left-edge range (findOriginalRange), not the true extremes.

#include "analysis/pdf_histogram.hpp"
#include "qsim/analysis/encoding_analyzer.hpp"

namespace qsim::analysis::detail {

class PercentileAnalyzer final : public EncodingAnalyzer {
 public:
  /// `percentile` in (0, 100], validated by make_analyzer.
  explicit PercentileAnalyzer(float percentile)
      : EncodingAnalyzer(AnalyzerKind::percentile), percentile_(percentile) {}

  const PdfHistogram& histogram() const { return pdf_; }

  /// _computePercentileRange, before zero-widening. Where AIMET reads one element
  /// past x_left (every bucket's cdf below P/100, when much mass fell outside the
  /// histogram), the upper end is x_left[511] + w, the histogram's right end.
  FloatRange percentile_range() const;

 protected:
  void do_update_stats(const FloatBatch& batch) override;
  /// Only zeros so far: the fixed [−1, 1] encoding (N after the strict adjustment).
  /// Throws ValueError when P < 50 puts the upper percentile below the lower one on
  /// both sides of 0, which leaves the empty range [0, 0].
  quant::Encoding do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const override;
  void do_reset() override { pdf_ = PdfHistogram(); }
  std::unique_ptr<EncodingAnalyzer> do_clone() const override;

 private:
  float percentile_;
  PdfHistogram pdf_;
};

}  // namespace qsim::analysis::detail
