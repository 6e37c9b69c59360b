#include "qsim/sim/sim_options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>
#include <utility>

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

namespace {

// "PATTERN=NUMBER" split at the last '='.
std::pair<std::string, int64_t> pattern_and_number(std::string_view text, std::string_view what) {
  const std::size_t eq = text.rfind('=');
  QSIM_CHECK(eq != std::string_view::npos && eq > 0 && eq + 1 < text.size(), ConfigError,
             "{} '{}': expected PATTERN=NUMBER", what, text);
  const std::string_view number = text.substr(eq + 1);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  QSIM_CHECK(error == std::errc() && end == number.data() + number.size(), ConfigError,
             "{} '{}': '{}' is not an integer", what, text, number);
  return {std::string(text.substr(0, eq)), value};
}

void check_pattern(const std::string& pattern, std::string_view what) {
  QSIM_CHECK(!pattern.empty(), ConfigError, "sim options: {}: empty pattern", what);
  try {
    std::regex compiled(pattern);
  } catch (const std::regex_error& e) {
    throw ConfigError(fmt::format("sim options: {}: '{}' is not a valid regular expression ({})", what, pattern,
                                  e.what()));
  }
}

}  // namespace

BitwidthOverride parse_bitwidth_override(std::string_view text) {
  const auto [pattern, bits] = pattern_and_number(text, "bitwidth override");
  return {pattern, static_cast<int>(std::clamp<int64_t>(bits, -1, 1000))};
}

EmbeddingGroupsRule parse_embedding_groups_rule(std::string_view text) {
  const auto [pattern, groups] = pattern_and_number(text, "embedding groups");
  return {pattern, groups, true};
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
  // Weights go below AIMET QuantSim's 4 bits (2..3 bits: learned rounding, ptq::adaround,
  // is made for them); activations keep AIMET's range.
  QSIM_CHECK(param_bitwidth_ >= 2 && param_bitwidth_ <= 32, ConfigError,
             "sim options: 'param_bitwidth' must be in [2, 32], got {}", param_bitwidth_);
  QSIM_CHECK(output_bitwidth_ >= 4 && output_bitwidth_ <= 32, ConfigError,
             "sim options: 'output_bitwidth' must be in [4, 32], got {}", output_bitwidth_);
  QSIM_CHECK(std::isfinite(percentile_) && percentile_ > 0.0 && percentile_ <= 100.0, ConfigError,
             "sim options: 'percentile' must be in (0, 100], got {}", percentile_);
  QSIM_CHECK(!(mask_add_override_ == MaskAddOverride::aimet_static_16bit_clamp && is_range_learning(scheme_)),
             ConfigError,
             "sim options: mask_add override 'aimet_static_16bit_clamp' cannot be combined with scheme '{}' "
             "(AIMET 1.23 fails there with 'Bitwidth mismatched', semantics §7.4)",
             to_string(scheme_));
  for (const BitwidthOverride& o : bitwidth_overrides_) {
    check_pattern(o.pattern, "bitwidth override");
    QSIM_CHECK(o.bitwidth >= 4 && o.bitwidth <= 32, ConfigError,
               "sim options: bitwidth override '{}': bitwidth must be in [4, 32], got {}", o.pattern, o.bitwidth);
  }
  for (const EmbeddingGroupsRule& r : embedding_groups_) {
    check_pattern(r.pattern, "embedding groups");
    QSIM_CHECK(r.groups >= 1, ConfigError, "sim options: embedding groups '{}': groups must be >= 1, got {}",
               r.pattern, r.groups);
  }
}

}  // namespace qsim::sim
