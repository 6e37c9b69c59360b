#pragma once

// Knobs of individual analyzers, kept out of the EncodingAnalyzer interface so no
// analyzer carries another one's settings. make_analyzer validates them.

#include <torch/arg.h>

namespace qsim::analysis {

/// Options for make_analyzer, e.g. AnalyzerOptions().percentile(99.99).
struct AnalyzerOptions {
  /// Percentile P of the percentile analyzer (semantics §3.4), in (0, 100]. AIMET
  /// keeps it as a float, and so does the analyzer: P must stay positive once
  /// rounded to float. Ignored by the other analyzers.
  TORCH_ARG(double, percentile) = 100.0;
};

}  // namespace qsim::analysis
