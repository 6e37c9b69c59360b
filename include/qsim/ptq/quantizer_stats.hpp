#pragma once

// What each quantizer's encoding covers: its min/max (per channel where it has
// channels) next to the histogram of the values it quantizes — for activations,
// what calibration saw (the calibration pass with the weights quantized and every
// activation quantizer off), for parameters the tensor itself. For the activations
// matching `channel_pattern` (by default BERT's FFN residual stream) also the range
// of every channel of the last axis: the outlier picture of Bondarenko et al. 2021.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/module.h>

#include "qsim/models/bert/quantizer_patterns.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::ptq {

struct QuantizerStats {
  std::string name;
  sim::SlotKind kind = sim::SlotKind::output;
  int bitwidth = 8;
  std::vector<double> encoding_min, encoding_max;  ///< one per tensor, channel or group
  double data_min = 0.0, data_max = 0.0;
  double histogram_min = 0.0, histogram_max = 0.0;  ///< the histogram's span: data and encoding
  std::vector<int64_t> histogram;                    ///< equal-width bins over that span
  std::vector<double> channel_min, channel_max;      ///< per channel of the last axis (channel_pattern only)

  /// Channels wider than `factor` × the median channel range.
  std::vector<int64_t> outlier_channels(double factor = 6.0) const;
  nlohmann::json to_json() const;
};

struct QuantizerStatsOptions {
  TORCH_ARG(int64_t, bins) = 100;
  /// Activations whose name matches (std::regex_search) also get per-channel ranges.
  TORCH_ARG(std::string, channel_pattern) = models::bert::kFfnResidualQuantizers;
};

/// Every active quantizer of the calibrated `sim`; `forward_pass` feeds the
/// calibration batches (what compute_encodings ran) and is called twice (ranges,
/// then histograms). The sim is left as it was. ConfigError when not calibrated.
std::vector<QuantizerStats> quantizer_stats(sim::QuantSim& sim, const std::function<void(torch::nn::Module&)>& forward_pass,
                                            const QuantizerStatsOptions& options = {});

}  // namespace qsim::ptq
