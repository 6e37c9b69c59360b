#pragma once

// The five calibration statistics of AIMET 1.23 (quantization-semantics.md §3).

#include <string_view>

namespace qsim::analysis {

/// Which encoding analyzer turns calibration batches into an encoding.
enum class AnalyzerKind {
  tf,           ///< running min/max (§3.1)
  tf_enhanced,  ///< SQNR search over a 512-bucket histogram (§3.2, §3.3)
  percentile,   ///< percentile P of the 512-bucket histogram (§3.4)
  mse,          ///< MSE search over the histogram's bucket edges (§3.5)
  entropy,      ///< KL-divergence search over an extendable histogram (§3.6)
};

/// "tf", "tf_enhanced", "percentile", "mse" or "entropy".
std::string_view to_string(AnalyzerKind kind);

/// Parses the names to_string gives; throws ConfigError naming the bad value.
AnalyzerKind parse_analyzer_kind(std::string_view name);

}  // namespace qsim::analysis
