#pragma once

// predict: runs a model over a TaskDataset in eval mode without gradients and
// concatenates what the head produces, for metrics and post-processing.

#include <cstdint>
#include <functional>

#include <torch/types.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::train {

struct PredictOptions {
  int64_t batch_size = 8;
  /// See TrainOptions::trim_padding.
  bool trim_padding = false;
  /// Where the batches run (the model must already be there).
  torch::Device device = torch::kCPU;
  /// Log progress every this many batches (0 = never).
  int64_t log_every = 0;
};

struct Predictions {
  torch::Tensor logits;        ///< [N, num_labels] (classification / regression)
  torch::Tensor start_logits;  ///< [N, L] (question answering)
  torch::Tensor end_logits;    ///< [N, L]
};

/// Leaves the model in eval mode.
Predictions predict(models::bert::BertForTask& model, const TaskDataset& data, const PredictOptions& options = {});

/// Runs the model over the first `num_batches` batches of `data` (all when <= 0),
/// discarding the outputs: the calibration callback QuantSim::compute_encodings needs.
void run_batches(models::bert::BertForTask& model, const TaskDataset& data, int64_t batch_size,
                 int64_t num_batches, torch::Device device = torch::kCPU);

}  // namespace qsim::train
