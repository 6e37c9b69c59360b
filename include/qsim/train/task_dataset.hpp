#pragma once

// TaskDataset: a task's encoded examples as stacked tensors, tokenized once, so the
// training and evaluation loops only slice. TaskBatch is one slice, ready for
// BertForTask::forward and task_loss.

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace qsim::train {

struct TaskBatch {
  torch::Tensor input_ids;       ///< [B, L] int64
  torch::Tensor token_type_ids;  ///< [B, L] int64
  torch::Tensor attention_mask;  ///< [B, L] int64, 1 = real token
  /// [B] int64 class ids (classification) or float32 scores (regression); undefined for QA.
  torch::Tensor labels;
  torch::Tensor start_positions;  ///< [B] int64, question answering only
  torch::Tensor end_positions;    ///< [B] int64, question answering only
};

struct TaskDataset {
  torch::Tensor input_ids;       ///< [N, L] int64
  torch::Tensor token_type_ids;  ///< [N, L] int64
  torch::Tensor attention_mask;  ///< [N, L] int64
  torch::Tensor labels;          ///< [N] (see TaskBatch::labels); may be undefined
  torch::Tensor start_positions;  ///< [N] int64 or undefined
  torch::Tensor end_positions;    ///< [N] int64 or undefined

  int64_t size() const { return input_ids.defined() ? input_ids.size(0) : 0; }
  int64_t max_seq_length() const { return input_ids.defined() ? input_ids.size(1) : 0; }

  /// Throws qsim::ValueError naming the tensor whose shape or dtype does not fit.
  void validate() const;
  /// Rows `indices`; with trim_padding, cut to the longest sequence among them.
  TaskBatch batch(const std::vector<int64_t>& indices, bool trim_padding = false) const;
  /// Rows [begin, end).
  TaskBatch batch(int64_t begin, int64_t end, bool trim_padding = false) const;
  /// The first `count` rows (all when count <= 0 or count >= size()).
  TaskDataset head(int64_t count) const;
  /// Rows [begin, end) as a dataset (views, no copy); ValueError outside [0, size()].
  TaskDataset rows(int64_t begin, int64_t end) const;
  /// The same rows with every tensor on `device` (the trainer runs on the data's device).
  TaskDataset to(torch::Device device) const;
};

}  // namespace qsim::train
