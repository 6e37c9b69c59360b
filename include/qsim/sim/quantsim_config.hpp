#pragma once

// An AIMET quantsim config (quantization-semantics.md §7.1–§7.2), parsed and
// validated: the same JSON a user passes to AIMET's QuantizationSimModel
// (`config_file=`), with AIMET's string booleans ("True" / "False"). Keeping the
// file format lets a user migrating from AIMET reuse their config unchanged.
// QuantSim applies the rules in the order defaults → params → op_type →
// supergroups → model_input → model_output.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qsim::sim {

/// Settings for parameter tensors ("params" entries): absent = unchanged.
struct ParamRule {
  std::optional<bool> is_quantized;
  std::optional<bool> is_symmetric;
};

/// Settings for an op's activations (defaults.ops, op_type entries, model_input,
/// model_output): absent = unchanged.
struct OpRule {
  std::optional<bool> is_input_quantized;
  std::optional<bool> is_output_quantized;
  std::optional<bool> is_symmetric;
  /// op_type only: parameter rules keyed "weight" / "bias".
  std::map<std::string, ParamRule> params;
  /// op_type only: per-channel weights for ops of this type.
  std::optional<bool> per_channel_quantization;
};

struct QuantSimConfig {
  struct Defaults {
    OpRule ops;
    ParamRule params;
    /// AIMET's quantizer defaults when the key is absent: strict off, unsigned on.
    std::optional<bool> strict_symmetric;
    std::optional<bool> unsigned_symmetric;
    std::optional<bool> per_channel_quantization;
  };

  Defaults defaults;
  /// Keyed by parameter kind: only "weight" and "bias" ever match (§7.2).
  std::map<std::string, ParamRule> params;
  /// Keyed by ONNX op type name (Gemm, LayerNorm, Softmax, Add, Div, ...).
  std::map<std::string, OpRule> op_type;
  /// Each an op-type chain (at least two) whose intermediate quantizers are fused away.
  std::vector<std::vector<std::string>> supergroups;
  OpRule model_input;
  OpRule model_output;
  /// The JSON it was parsed from, saved verbatim with quantized checkpoints.
  nlohmann::json source = nlohmann::json::object();

  /// Validates and parses an AIMET config object. Throws qsim::ConfigError naming
  /// `origin` and the key path for unknown or missing keys, values that are not
  /// "True"/"False", and wrong JSON types.
  static QuantSimConfig from_json(const nlohmann::json& json, const std::string& origin = "quantsim config");
  /// Reads and parses a file (qsim::IoError when missing or not JSON).
  static QuantSimConfig from_file(const std::string& path);
  /// AIMET 1.23's default_config.json (shipped as share/qsim/default_config.json).
  static QuantSimConfig aimet_default();
};

/// The text of share/qsim/default_config.json, embedded at build time.
const std::string& default_config_text();

}  // namespace qsim::sim
