#pragma once

// TF-enhanced (SQNR) analyzer, quantization-semantics.md §3.2–§3.3: the shared
// 512-bucket histogram, then the candidate search of sqnr_search.hpp.

#include "analysis/pdf_histogram.hpp"
#include "qsim/analysis/encoding_analyzer.hpp"

namespace qsim::analysis::detail {

class TfEnhancedAnalyzer final : public EncodingAnalyzer {
 public:
  TfEnhancedAnalyzer() : EncodingAnalyzer(AnalyzerKind::tf_enhanced) {}

  const PdfHistogram& histogram() const { return pdf_; }

 protected:
  void do_update_stats(const FloatBatch& batch) override;
  /// Only zeros so far: the fixed [−1, 1] encoding with N = 2^b − 1 (AIMET 1.23
  /// applies no strict adjustment here); else the SQNR search.
  quant::Encoding do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const override;
  void do_reset() override { pdf_ = PdfHistogram(); }
  std::unique_ptr<EncodingAnalyzer> do_clone() const override;

 private:
  PdfHistogram pdf_;
};

}  // namespace qsim::analysis::detail
