#pragma once

// Entropy (KL) analyzer, quantization-semantics.md §3.6: the extendable histogram
// of tensor_histogram.hpp, then a search over shrinking windows of at least 255
// buckets for the one whose 255-level quantization Q diverges least from the
// clipped reference P; its bounds are zero-widened and gridded.

#include "analysis/tensor_histogram.hpp"
#include "qsim/analysis/encoding_analyzer.hpp"

namespace qsim::analysis::detail {

class EntropyAnalyzer final : public EncodingAnalyzer {
 public:
  EntropyAnalyzer() : EncodingAnalyzer(AnalyzerKind::entropy) {}

  const TensorHistogram& histogram() const { return histogram_; }

  /// _optimizeKL: the threshold range before zero-widening. For signed symmetric
  /// use the histogram is first rescaled to [−A, A]; with bw ≠ 8 the (rescaled)
  /// histogram range is returned unsearched.
  std::pair<float, float> kl_range(int bitwidth, quant::Symmetry symmetry) const;

 protected:
  void do_update_stats(const FloatBatch& batch) override;
  quant::Encoding do_compute_encoding(int bitwidth, quant::Symmetry symmetry) const override;
  void do_reset() override { histogram_ = TensorHistogram(); }
  std::unique_ptr<EncodingAnalyzer> do_clone() const override;

 private:
  TensorHistogram histogram_;
};

}  // namespace qsim::analysis::detail
