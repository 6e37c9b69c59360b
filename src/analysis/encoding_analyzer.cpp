#include "qsim/analysis/encoding_analyzer.hpp"

#include <cmath>

#include "analysis/entropy_analyzer.hpp"
#include "analysis/mse_analyzer.hpp"
#include "analysis/percentile_analyzer.hpp"
#include "analysis/tf_analyzer.hpp"
#include "analysis/tf_enhanced_analyzer.hpp"
#include "detail/check.hpp"
#include "qsim/config.hpp"

namespace qsim::analysis {

void EncodingAnalyzer::update_stats(const at::Tensor& batch) {
  QSIM_CHECK(batch.defined(), ValueError, "{}: the batch is an undefined tensor", where());
  QSIM_CHECK(at::isFloatingType(batch.scalar_type()), ValueError,
             "{}: expected a floating-point tensor, got dtype {}", where(), c10::toString(batch.scalar_type()));
  if (batch.numel() > 0) {
    // The passes run where the values are when kernels/cuda can take them; any
    // other device is read through a host copy.
    const bool on_device = QSIM_CUDA_ENABLED && batch.is_cuda();
    const at::Tensor values = on_device ? batch.to(at::kFloat).contiguous() : batch.to(at::kCPU, at::kFloat).contiguous();
    do_update_stats(FloatBatch{values.data_ptr<float>(), values.numel(), values.device()});
    has_stats_ = true;
  }
  ++batches_;
}

quant::Encoding EncodingAnalyzer::compute_encoding(int bitwidth, quant::Symmetry symmetry) const {
  quant::check_bitwidth(bitwidth, symmetry, name());
  QSIM_CHECK(has_stats_, ValueError, "{}: no statistics to compute an encoding from (no non-empty batch was added)",
             name());
  return do_compute_encoding(bitwidth, symmetry);
}

void EncodingAnalyzer::reset() {
  do_reset();
  batches_ = 0;
  has_stats_ = false;
}

std::string EncodingAnalyzer::where() const { return fmt::format("{} analyzer: batch {}", to_string(kind_), batches_); }

std::string EncodingAnalyzer::name() const { return fmt::format("{} analyzer", to_string(kind_)); }

std::unique_ptr<EncodingAnalyzer> make_analyzer(AnalyzerKind kind, const AnalyzerOptions& options) {
  switch (kind) {
    case AnalyzerKind::tf: return std::make_unique<detail::TfAnalyzer>();
    case AnalyzerKind::tf_enhanced: return std::make_unique<detail::TfEnhancedAnalyzer>();
    case AnalyzerKind::percentile: {
      const auto p = static_cast<float>(options.percentile());
      QSIM_CHECK(p > 0.0f && p <= 100.0f, ConfigError, "percentile analyzer: percentile must be in (0, 100], got {}",
                 options.percentile());
      return std::make_unique<detail::PercentileAnalyzer>(p);
    }
    case AnalyzerKind::mse: return std::make_unique<detail::MseAnalyzer>();
    case AnalyzerKind::entropy: return std::make_unique<detail::EntropyAnalyzer>();
  }
  throw ConfigError(fmt::format("unknown analyzer kind {}", static_cast<int>(kind)));
}

}  // namespace qsim::analysis
