#pragma once

// The training losses of Hugging Face's BERT heads, chosen by what the batch holds:
// int64 labels → cross-entropy over the logits; float labels → mean squared error of
// the single regression output (STS-B); start/end positions → the mean of the start
// and end cross-entropies, positions clamped to the sequence length and ignored there.

#include <torch/types.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::train {

/// Throws qsim::ValueError when the output lacks what the batch's targets need.
torch::Tensor task_loss(const models::bert::BertTaskOutput& output, const TaskBatch& batch);

}  // namespace qsim::train
