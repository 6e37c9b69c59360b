#pragma once

// How far each block's output moves under quantization: the quantized model's
// output of every block (after its output quantizer) against the FP32 model's, on
// the same batches, as mean squared error and SQNR (signal-to-quantization-noise
// ratio, 10·log10(Σ y² / Σ (y − ŷ)²) dB). Errors accumulate: a block's error includes
// what reached it from earlier blocks, as in AIMET QuantAnalyzer's per-layer MSE.
// Padding is left out: positions whose attention_mask is 0 (token rows of
// [B, L, ...] outputs, query rows of [B, heads, L, ·] ones, and key columns of
// [B, heads, L, L] attention maps).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::ptq {

struct BlockError {
  std::string block;
  std::string op_type;
  double mse = 0.0;
  double sqnr_db = 0.0;  ///< +inf when the outputs are identical
  int64_t elements = 0;  ///< compared values (padding excluded)
};

nlohmann::json to_json(const std::vector<BlockError>& errors);

struct BlockErrorOptions {
  /// Rows of the data compared (the first ones); > 0.
  TORCH_ARG(int64_t, samples) = 128;
  TORCH_ARG(int64_t, batch_size) = 8;
};

/// Every block with an output quantizer, in forward order. The sim must be
/// calibrated; it is left in the mode it was in. ConfigError when it is not
/// calibrated or the options are out of range.
std::vector<BlockError> block_errors(sim::QuantSim& sim, models::bert::BertForTask& model,
                                     const train::TaskDataset& data, const BlockErrorOptions& options = {});

/// The values of `y` at real-token positions (see above), flattened; `mask` is the
/// batch's [B, L] attention mask.
at::Tensor real_token_values(const at::Tensor& y, const at::Tensor& mask);

}  // namespace qsim::ptq
