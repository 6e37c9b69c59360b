#pragma once

// Caching what a BERT's Linears read, for AdaRound: which rows of the data to keep
// (real tokens only, at most max_rows, the same rows in every pass), and a pass over
// the batches that records the input of one Linear — and of the Linears right after
// it that read the very same tensor (Q, K and V) — then stops the forward there.

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/nn/linear.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::ptq::detail {

/// Per batch, the flat row indices kept: of its [B·L] token rows (real tokens,
/// attention_mask = 1) and of its [B] sequences (pooler, classifier).
struct RowPlan {
  int64_t batch_size = 0;
  std::vector<at::Tensor> tokens;
  std::vector<at::Tensor> sequences;
  int64_t batches() const { return static_cast<int64_t>(tokens.size()); }
};

/// The first `batches` batches of `data`; each kind of row subsampled to max_rows
/// at random (seeded) when there are more.
RowPlan plan_rows(const train::TaskDataset& data, int64_t batches, int64_t batch_size, int64_t max_rows,
                  uint64_t seed);

/// The kept rows of `x` ([B, L, in] tokens or [B, in] sequences) in batch `b`.
at::Tensor kept_rows(const RowPlan& plan, int64_t b, const at::Tensor& x);

/// Runs the plan's batches through `model` and records the inputs (kept rows) of
/// `candidates[0]` and of the candidates that follow it reading the same tensor.
/// With `quantize_inputs` a Linear's own input quantizer (when on) is applied first.
/// Returns one [rows, in] tensor per captured Linear (at least one).
std::vector<at::Tensor> capture_inputs(models::bert::BertForTask& model, const train::TaskDataset& data,
                                       const RowPlan& plan, const std::vector<nn::LinearImpl*>& candidates,
                                       bool quantize_inputs);

}  // namespace qsim::ptq::detail
