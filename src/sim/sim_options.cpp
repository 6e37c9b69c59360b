#include "qsim/sim/sim_options.hpp"

#include <cmath>

#include "detail/check.hpp"

namespace qsim::sim {

std::string_view to_string(QuantScheme scheme) {
  switch (scheme) {
    case QuantScheme::tf: return "tf";
    case QuantScheme::tf_enhanced: return "tf_enhanced";
    case QuantScheme::percentile: return "percentile";
    case QuantScheme::tf_range_learning: return "tf_range_learning";
    case QuantScheme::tf_enhanced_range_learning: return "tf_enhanced_range_learning";
  }
  return "unknown";
}

QuantScheme parse_quant_scheme(std::string_view name) {
  for (QuantScheme s : {QuantScheme::tf, QuantScheme::tf_enhanced, QuantScheme::percentile,
                        QuantScheme::tf_range_learning, QuantScheme::tf_enhanced_range_learning}) {
    if (to_string(s) == name) return s;
  }
  throw ConfigError(fmt::format(
      "unknown quant scheme '{}': expected tf, tf_enhanced, percentile, tf_range_learning or "
      "tf_enhanced_range_learning",
      name));
}

std::string_view to_string(MaskAddOverride mode) {
  switch (mode) {
    case MaskAddOverride::off: return "off";
    case MaskAddOverride::aimet_static_16bit_clamp: return "aimet_static_16bit_clamp";
  }
  return "unknown";
}

MaskAddOverride parse_mask_add_override(std::string_view name) {
  if (name == "off") return MaskAddOverride::off;
  if (name == "aimet_static_16bit_clamp") return MaskAddOverride::aimet_static_16bit_clamp;
  throw ConfigError(
      fmt::format("unknown mask_add override '{}': expected off or aimet_static_16bit_clamp", name));
}

bool is_range_learning(QuantScheme scheme) {
  return scheme == QuantScheme::tf_range_learning || scheme == QuantScheme::tf_enhanced_range_learning;
}

analysis::AnalyzerKind activation_analyzer(QuantScheme scheme) {
  switch (scheme) {
    case QuantScheme::tf:
    case QuantScheme::tf_range_learning: return analysis::AnalyzerKind::tf;
    case QuantScheme::tf_enhanced:
    case QuantScheme::tf_enhanced_range_learning: return analysis::AnalyzerKind::tf_enhanced;
    case QuantScheme::percentile: return analysis::AnalyzerKind::percentile;
  }
  throw ConfigError("unknown quant scheme");
}

void SimOptions::validate() const {
  QSIM_CHECK(param_bitwidth_ >= 4 && param_bitwidth_ <= 32, ConfigError,
             "sim options: 'param_bitwidth' must be in [4, 32], got {}", param_bitwidth_);
  QSIM_CHECK(output_bitwidth_ >= 4 && output_bitwidth_ <= 32, ConfigError,
             "sim options: 'output_bitwidth' must be in [4, 32], got {}", output_bitwidth_);
  QSIM_CHECK(std::isfinite(percentile_) && percentile_ > 0.0 && percentile_ <= 100.0, ConfigError,
             "sim options: 'percentile' must be in (0, 100], got {}", percentile_);
  QSIM_CHECK(!(mask_add_override_ == MaskAddOverride::aimet_static_16bit_clamp && is_range_learning(scheme_)),
             ConfigError,
             "sim options: mask_add override 'aimet_static_16bit_clamp' cannot be combined with scheme '{}' "
             "(AIMET 1.23 fails there with 'Bitwidth mismatched', semantics §7.4)",
             to_string(scheme_));
}

}  // namespace qsim::sim
