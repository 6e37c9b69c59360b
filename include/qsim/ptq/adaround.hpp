#pragma once

// AdaRound: learned weight rounding for post-training quantization (Nagel et al.,
// "Up or Down? Adaptive Rounding for Post-Training Quantization", ICML 2020), as
// AIMET ships it (aimet_torch/adaround), done for BERT's token rows.
//
// For one layer with weight W and a frozen weight encoding (Δ per tensor or per
// output channel), AdaRound learns V (one value per weight) so that
//   W̃ = Δ·clamp(⌊W/Δ⌋ + h(V), code_min, code_max),  h(V) = clamp(σ(V)(ζ − γ) + γ, 0, 1)
// reproduces the FP32 layer's output on cached rows:
//   loss = mean over rows of Σ_out (act(x W̃ᵀ + b) − act(y))² + λ Σ (1 − |2h − 1|^β)
// with β annealed from 20 to 2 (cosine) after a warm start without the second term;
// Adam on V. The result is hard (h = [V ≥ 0]) and is written into the weight as
// Δ·(⌊W/Δ⌋ + h), so that the frozen encoding's nearest rounding gives back exactly
// the learned choice.
//
//   qsim::sim::QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().param_bitwidth(4));
//   const auto report = qsim::ptq::adaround(sim, model, train_data, AdaroundOptions().batches(8));
//   sim.compute_encodings(calibrate);   // activations; the weight encodings stay frozen

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/arg.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/quant/encoding.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::ptq {

/// What follows a layer in its loss: nothing (AIMET 1.23) or the activation function
/// the model applies to its output (BERT's GELU after the intermediate dense and Tanh
/// after the pooler's, as the EMNLP 2021 paper's code includes them).
enum class AdaroundActivation { none, gelu, tanh };

struct AdaroundLayerResult;

struct AdaroundOptions {
  /// Optimization steps per layer (AIMET's default).
  TORCH_ARG(int64_t, iterations) = 10000;
  /// λ, the weight of the rounding regularizer; ≥ 0.
  TORCH_ARG(double, reg_weight) = 0.01;
  /// β's cosine annealing, from beta_start down to beta_end (start ≥ end > 0).
  TORCH_ARG(double, beta_start) = 20.0;
  TORCH_ARG(double, beta_end) = 2.0;
  /// The first warm_start·iterations steps have no regularizer; in [0, 1).
  TORCH_ARG(double, warm_start) = 0.2;
  /// Adam's learning rate for V.
  TORCH_ARG(double, learning_rate) = 1e-3;
  /// Cached rows per step.
  TORCH_ARG(int64_t, batch_rows) = 32;
  /// BERT driver: batches of the data run through the model to fill each layer's cache.
  TORCH_ARG(int64_t, batches) = 8;
  /// Batch size of those batches.
  TORCH_ARG(int64_t, batch_size) = 8;
  /// At most this many rows are cached per layer (real tokens only: padding positions
  /// never enter the cache or the loss), chosen at random when there are more.
  TORCH_ARG(int64_t, max_rows) = 4096;
  /// BERT driver: include each Linear's activation function (the intermediate dense's
  /// GELU) in its loss; false = AIMET 1.23.
  TORCH_ARG(bool, include_activation) = true;
  /// BERT driver: keep the activation quantizers on while caching a layer's input
  /// (AIMET's default is off).
  TORCH_ARG(bool, keep_activation_quantizers) = false;
  /// BERT driver: also AdaRound the embedding tables (word, position, token type).
  TORCH_ARG(bool, embeddings) = false;
  /// The weight bitwidth AdaRound rounds to: 0 = each quantizer's own; otherwise it
  /// must be the bitwidth the weight quantizers take (SimOptions::param_bitwidth).
  TORCH_ARG(int, bitwidth) = 0;
  /// Seed of the row sampling.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Log progress every this many steps (0 = only each layer's summary).
  TORCH_ARG(int64_t, log_every) = 2000;
  /// Called with each layer's result as it finishes (e.g. to report progress).
  TORCH_ARG(std::function<void(const AdaroundLayerResult&)>, on_layer);
};

/// Throws ConfigError naming the option at fault (λ < 0, β range inverted or not
/// positive, zero iterations, warm start outside [0, 1), a bitwidth outside [2, 32], ...).
void validate(const AdaroundOptions& options);

/// One layer's outcome; losses are the reconstruction loss (mean over the cached rows
/// of the squared error summed over outputs) of nearest rounding and of AdaRound's
/// hard result, and the last value of the rounding regularizer (Σ, before λ).
struct AdaroundLayerResult {
  std::string name;
  std::vector<int64_t> shape;
  int64_t rows = 0;
  int64_t iterations = 0;
  double nearest_loss = 0.0;
  double adaround_loss = 0.0;
  double rounding_loss = 0.0;
  double flipped = 0.0;  ///< fraction of weights rounded the other way than nearest
  double seconds = 0.0;
  nlohmann::json to_json() const;
};

struct AdaroundResult {
  std::vector<AdaroundLayerResult> layers;
  double seconds = 0.0;
  nlohmann::json to_json() const;
};

/// The weight grid one layer rounds to: per tensor (one entry) or one per output
/// channel (row of the weight), from its frozen static encodings (semantics §2: the
/// kernel's f32(Δ) and offset).
struct WeightGrid {
  std::vector<float> delta;
  std::vector<float> code_min;  ///< o
  std::vector<float> code_max;  ///< o + N
  static WeightGrid from_encodings(const std::vector<quant::Encoding>& encodings, const std::string& what);
};

/// AdaRound of one layer y = act(x·Wᵀ + b) (`bias` may be undefined) on cached rows:
/// inputs [R, in] (the quantized model's), targets [R, out] (the FP32 layer's output
/// before `activation`). Returns the rounded weight (Δ times integers); fills `result`'s
/// losses and counts.
at::Tensor adaround_weight(const at::Tensor& weight, const at::Tensor& bias, const WeightGrid& grid,
                           const at::Tensor& inputs, const at::Tensor& targets, AdaroundActivation activation,
                           const AdaroundOptions& options, AdaroundLayerResult& result);

/// AdaRound of an embedding table [V, dim] on the ids it looked up (padding
/// excluded): the loss is the squared error of the gathered rows.
at::Tensor adaround_embedding(const at::Tensor& table, const WeightGrid& grid, const at::Tensor& ids,
                              const AdaroundOptions& options, AdaroundLayerResult& result);

/// AdaRounds every Linear of `model` (the model `sim` wraps) whose weight quantizer
/// is active, one at a time in forward order, before activation calibration: the
/// parameter encodings are computed from the weights and the AdaRounded ones frozen;
/// each layer's inputs come from `options.batches` batches of `data` through the model
/// with the earlier layers already rounded (parameter quantizers on, activation
/// quantizers off unless kept), its targets from the FP32 model. The sim is left in
/// FP32 mode, uncalibrated, with the rounded weights written into the model. Throws
/// ConfigError for bad options, a calibrated sim, a model that is not `sim`'s, or no
/// layer to round.
AdaroundResult adaround(sim::QuantSim& sim, models::bert::BertForTask& model, const train::TaskDataset& data,
                        const AdaroundOptions& options = {});

}  // namespace qsim::ptq
