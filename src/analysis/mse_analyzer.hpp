#pragma once

// MSE analyzer, quantization-semantics.md §3.5: every (min, max) pair of the
// shared histogram's bucket edges around 0 is turned into an encoding by GRID and
// scored by the pdf-weighted squared error at the bucket centres; the cheapest
// range is zero-widened and gridded again.

#include "analysis/pdf_histogram.hpp"
#include "qsim/analysis/encoding_analyzer.hpp"

namespace qsim::analysis::detail {

class MseAnalyzer final : public EncodingAnalyzer {
 public:
  MseAnalyzer() : EncodingAnalyzer(AnalyzerKind::mse) {}

  const PdfHistogram& histogram() const { return pdf_; }

  /// _minimizeMSE: the best (min, max) candidate, before zero-widening. Quirk kept:
  /// the centres start at the zero-widened range start, so for data on one side of
  /// 0 they miss the data, every cost is 0 and the first candidate wins.
  FloatRange best_range(int bitwidth, quant::Symmetry symmetry) const;

 protected:
  void do_update_stats(const FloatBatch& batch) override;
  quant::Encoding do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const override;
  void do_reset() override { pdf_ = PdfHistogram(); }
  std::unique_ptr<EncodingAnalyzer> do_clone() const override;

 private:
  PdfHistogram pdf_;
};

}  // namespace qsim::analysis::detail
