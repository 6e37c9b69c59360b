#pragma once

// bert_demo's quantized rows: each variant is simulated on its own copy of the
// trained FP32 model (QAT changes weights, so variants must not share them):
// calibrate (PTQ), score, then optionally range-learning QAT and score again.

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "fidelity.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/ptq/adaround.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/sim/sim_options.hpp"
#include "qsim/train/task_dataset.hpp"
#include "qsim/train/train_options.hpp"

namespace qsim::examples {

/// One simulated configuration: bitwidths, the paper's two PTQ fixes, and QAT.
struct DemoVariant {
  std::string name;  ///< "W8A8", "W4A8 +MP16", ...
  int weight_bw = 8;
  int act_bw = 8;
  int mixed_precision_bits = 0;  ///< > 0: the FFN residual activations at this width
  int64_t peg_groups = 0;        ///< > 0: the FFN residual activations in this many embedding groups
  bool peg_permute = true;       ///< PEG: range-based permutation before grouping
  bool qat = false;
  /// AIMET's range-learning scheme (weights then run the learned grid, §5.3) or the
  /// static TF grid everywhere.
  sim::QuantScheme scheme = sim::QuantScheme::tf_range_learning;
  bool adaround = false;           ///< AdaRound the weights before calibration (VariantRun::adaround)
  bool float_activations = false;  ///< every activation quantizer off: weights only
};

struct VariantRun {
  int64_t calibration_batches = 16;
  int64_t batch_size = 32;
  train::TrainOptions qat;  ///< the QAT recipe (max_steps, learning rates, ...)
  torch::Device device = torch::kCPU;
  /// The dev metric of a model, in points.
  std::function<double(models::bert::BertForTask&)> score;
  /// Called after each scored stage ("PTQ", "QAT") with the simulation in quantized
  /// mode (e.g. to export it); empty = nothing.
  std::function<void(const DemoVariant&, const std::string& stage, const sim::QuantSim&, models::bert::BertForTask&)>
      on_scored;
  /// Closeness to FP32 after each scored stage; empty = not measured.
  std::function<Fidelity(models::bert::BertForTask&)> fidelity;
  /// AdaRound's options for the variants that ask for it.
  std::optional<ptq::AdaroundOptions> adaround;
};

struct VariantResult {
  double ptq = 0.0;
  std::optional<double> qat;
  double first_qat_loss = 0.0;  ///< mean loss of the first 10 QAT steps (the PTQ model's loss)
  double last_qat_loss = 0.0;   ///< mean loss of the last 10 steps
  double seconds = 0.0;
  nlohmann::json adaround;  ///< AdaRound's per-layer results (null when not run)
  std::optional<Fidelity> ptq_fidelity, qat_fidelity;
  nlohmann::json to_json() const;
};

/// A deep copy of the trained FP32 model: same weights, its own quantizer nodes.
models::bert::BertForTask copy_of(const models::bert::BertForTask& model, torch::Device device);

/// The SimOptions of a variant (tf_range_learning, AIMET's default config).
sim::SimOptions variant_options(const DemoVariant& variant);

/// Per-channel ranges of the FFN residual activations (models::bert::
/// kFfnResidualQuantizers) on the calibration batches, W8A8 weights: for each
/// quantizer the median and largest channel range (max − min), their ratio and
/// the channels wider than 6× the median — the outliers PEG's permutation groups.
nlohmann::json ffn_residual_ranges(const models::bert::BertForTask& fp32, const train::TaskDataset& train_data,
                                   const VariantRun& run);

VariantResult run_variant(const models::bert::BertForTask& fp32, const DemoVariant& variant,
                          const train::TaskDataset& train_data, const VariantRun& run);

}  // namespace qsim::examples
