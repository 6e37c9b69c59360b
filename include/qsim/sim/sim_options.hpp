#pragma once

// Per-simulation options: what AIMET passes to QuantizationSimModel's constructor
// (quant_scheme, default_param_bw, default_output_bw) plus qsim's named options
// for the places where AIMET's behaviour depends on an accident (§7.4).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <torch/arg.h>

#include "qsim/analysis/analyzer_kind.hpp"

namespace qsim::sim {

/// AIMET's QuantScheme (semantics §4.1). The range-learning schemes calibrate with
/// TF / TF-enhanced, then switch every enabled quantizer to the learned grid (§5).
enum class QuantScheme {
  tf,                          ///< post_training_tf
  tf_enhanced,                 ///< post_training_tf_enhanced (AIMET's default)
  percentile,                  ///< post_training_percentile (weights at P = 100, §9.17)
  tf_range_learning,           ///< training_range_learning_with_tf_init (the zoo BERT)
  tf_enhanced_range_learning,  ///< training_range_learning_with_tf_enhanced_init
};

/// AIMET's attention-mask override (semantics §7.4). `off` is the default because
/// the zoo checkpoints were most likely made without it: AIMET matches the module
/// name by string identity, which fails for a model unpickled with torch.load, and
/// the override cannot complete under a range-learning scheme in AIMET 1.23.
enum class MaskAddOverride {
  off,                       ///< mask_add is an ordinary 8-bit quantized Add
  aimet_static_16bit_clamp,  ///< 16-bit TF static mask_add; output min clamped to −6, re-gridded to 8 bits, frozen
};

std::string_view to_string(QuantScheme scheme);
/// "tf", "tf_enhanced", "percentile", "tf_range_learning", "tf_enhanced_range_learning";
/// throws ConfigError naming the value.
QuantScheme parse_quant_scheme(std::string_view name);
std::string_view to_string(MaskAddOverride mode);
/// "off" or "aimet_static_16bit_clamp"; throws ConfigError naming the value.
MaskAddOverride parse_mask_add_override(std::string_view name);

/// Whether the scheme trains min/max after calibration.
bool is_range_learning(QuantScheme scheme);
/// The analyzer that calibrates activations under the scheme.
analysis::AnalyzerKind activation_analyzer(QuantScheme scheme);

/// Mixed precision: every quantizer whose name (its module path, e.g.
/// "bert.encoder.layer.3.output.add.output_quantizer") contains a match of
/// `pattern` (ECMAScript regex, std::regex_search) gets `bitwidth` instead of
/// param_bitwidth / output_bitwidth. Later overrides win over earlier ones.
struct BitwidthOverride {
  std::string pattern;
  int bitwidth = 16;
};

/// Per-embedding-group quantization (quant/embedding_groups.hpp) for the activation
/// (input/output) quantizers whose name matches `pattern` (as above): the last axis
/// split into `groups` groups, after the range-based permutation when `permute`.
struct EmbeddingGroupsRule {
  std::string pattern;
  int64_t groups = 6;
  bool permute = true;
};

/// "PATTERN=BITS" (e.g. "output\\.add=16") as a BitwidthOverride; ConfigError naming
/// the text when the '=' or the number is missing. The last '=' splits.
BitwidthOverride parse_bitwidth_override(std::string_view text);
/// "PATTERN=GROUPS" as an EmbeddingGroupsRule (permute on); errors as above.
EmbeddingGroupsRule parse_embedding_groups_rule(std::string_view text);

/// Example: `SimOptions().scheme(QuantScheme::tf_range_learning).param_bitwidth(8)`.
struct SimOptions {
  /// default_param_bw: parameter quantizers; 2..32 (below AIMET QuantSim's 4 for the
  /// low-bit weights learned rounding is made for, ptq::adaround).
  TORCH_ARG(int, param_bitwidth) = 8;
  /// default_output_bw: input and output (activation) quantizers; 4..32 (AIMET's).
  TORCH_ARG(int, output_bitwidth) = 8;
  TORCH_ARG(QuantScheme, scheme) = QuantScheme::tf_enhanced;
  /// Percentile P of the percentile scheme, in (0, 100] (activations only).
  TORCH_ARG(double, percentile) = 100.0;
  /// Overrides the config's per_channel_quantization for every op when set.
  TORCH_ARG(std::optional<bool>, per_channel);
  TORCH_ARG(MaskAddOverride, mask_add_override) = MaskAddOverride::off;
  /// Mixed precision by name pattern; each pattern must match at least one quantizer.
  TORCH_ARG(std::vector<BitwidthOverride>, bitwidth_overrides);
  /// Per-embedding-group activations by name pattern; each pattern must match at
  /// least one activation quantizer and no parameter quantizer.
  TORCH_ARG(std::vector<EmbeddingGroupsRule>, embedding_groups);
  /// Inference keeps each quantized weight and reuses it until the weight or its
  /// encoding changes (QuantizerNodeImpl::set_cache_output): a weight is quantized
  /// once, not on every forward, at the cost of one quantized copy of every
  /// quantized parameter (about the model's size). Off: quantize on every forward.
  TORCH_ARG(bool, cache_quantized_weights) = true;

 public:
  /// Throws ConfigError for bitwidths outside [4, 32] (AIMET's range is 4..31
  /// for defaults; 32 is kept for experiments), a percentile outside (0, 100],
  /// the mask override combined with a range-learning scheme (AIMET 1.23 raises
  /// "Bitwidth mismatched" there, §7.4), a pattern that is not a valid regex, or
  /// embedding groups < 1.
  void validate() const;
};

}  // namespace qsim::sim
