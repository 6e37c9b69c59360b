#include "qsim/analysis/analyzer_kind.hpp"

#include <fmt/format.h>

#include "qsim/error.hpp"

namespace qsim::analysis {

std::string_view to_string(AnalyzerKind kind) {
  switch (kind) {
    case AnalyzerKind::tf: return "tf";
    case AnalyzerKind::tf_enhanced: return "tf_enhanced";
    case AnalyzerKind::percentile: return "percentile";
    case AnalyzerKind::mse: return "mse";
    case AnalyzerKind::entropy: return "entropy";
  }
  return "unknown";
}

AnalyzerKind parse_analyzer_kind(std::string_view name) {
  for (AnalyzerKind kind : {AnalyzerKind::tf, AnalyzerKind::tf_enhanced, AnalyzerKind::percentile, AnalyzerKind::mse,
                            AnalyzerKind::entropy}) {
    if (name == to_string(kind)) return kind;
  }
  throw ConfigError(
      fmt::format("unknown analyzer '{}': expected tf, tf_enhanced, percentile, mse or entropy", name));
}

}  // namespace qsim::analysis
