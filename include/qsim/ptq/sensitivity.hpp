#pragma once

// Which quantizers cost accuracy, found as AIMET's QuantAnalyzer finds it: the
// simulation is calibrated once with every quantizer on, then scored (by the
// user's callback) in FP32, weights only, activations only, and with one group of
// quantizers at a time enabled ("enable one": what that group alone costs) or
// disabled ("disable one": what switching it off wins back), in forward order.
// Groups are blocks (AIMET's unit) and, as an option, single activation quantizers
// (the granularity at which Bondarenko et al. 2021 found BERT's FFN residual sum).
//
//   const auto result = qsim::ptq::analyze_sensitivity(sim, {calibrate, evaluate});
//   for (const auto& g : result.most_sensitive(10)) fmt::print("{} {}\n", g.name, g.disabled);

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/module.h>

#include "qsim/ptq/quantizer_groups.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::ptq {

/// What the analysis needs from the user: the calibration forward pass (what
/// QuantSim::compute_encodings runs) and a score of the model, higher is better.
struct SensitivityCallbacks {
  std::function<void(torch::nn::Module&)> calibrate;
  std::function<double(torch::nn::Module&)> evaluate;
};

struct SensitivityOptions {
  /// Score each block group enabled alone ("enable one").
  TORCH_ARG(bool, enable_one) = true;
  /// Score the model with each block group disabled ("disable one").
  TORCH_ARG(bool, disable_one) = true;
  /// Also sweep single activation quantizers (both sweeps, as set above).
  TORCH_ARG(bool, single_activations) = false;
};

/// One group's two sweep scores (NaN where that sweep did not run).
struct GroupSensitivity {
  std::string name;
  std::vector<std::string> quantizers;
  double enabled_only = 0.0;  ///< every other quantizer off
  double disabled = 0.0;      ///< every other quantizer on
};

struct SensitivityResult {
  double fp32 = 0.0;
  double quantized = 0.0;         ///< every active quantizer on
  double weights_only = 0.0;      ///< parameter quantizers only
  double activations_only = 0.0;  ///< input / output quantizers only
  std::vector<GroupSensitivity> blocks;
  std::vector<GroupSensitivity> activations;  ///< empty unless single_activations
  double seconds = 0.0;

  /// Block groups (and activation quantizers, when swept) by how much disabling them
  /// wins back (disabled − quantized), largest first; ties keep forward order.
  std::vector<GroupSensitivity> most_sensitive(std::size_t count) const;
  nlohmann::json to_json() const;
};

/// Calibrates `sim` with `callbacks.calibrate`, runs the sweeps, and leaves the sim
/// calibrated in quantized mode with every quantizer calibration kept active.
/// ConfigError when a callback is missing.
SensitivityResult analyze_sensitivity(sim::QuantSim& sim, const SensitivityCallbacks& callbacks,
                                      const SensitivityOptions& options = {});

}  // namespace qsim::ptq
