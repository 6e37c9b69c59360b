#include "qsim/train/task_loss.hpp"

#include <torch/torch.h>

#include "detail/check.hpp"

namespace qsim::train {
namespace {

torch::Tensor span_loss(const models::bert::BertTaskOutput& output, const TaskBatch& batch) {
  QSIM_CHECK(output.start_logits.defined() && output.end_logits.defined(), ValueError,
             "task loss: the batch has start/end positions but the model has no question-answering head");
  const int64_t ignored = output.start_logits.size(1);
  namespace F = torch::nn::functional;
  const auto options = F::CrossEntropyFuncOptions().ignore_index(ignored);
  const torch::Tensor start = batch.start_positions.clamp(0, ignored);
  const torch::Tensor end = batch.end_positions.clamp(0, ignored);
  return (F::cross_entropy(output.start_logits, start, options) + F::cross_entropy(output.end_logits, end, options)) /
         2.0;
}

}  // namespace

torch::Tensor task_loss(const models::bert::BertTaskOutput& output, const TaskBatch& batch) {
  if (batch.start_positions.defined()) return span_loss(output, batch);
  QSIM_CHECK(batch.labels.defined(), ValueError, "task loss: the batch has neither labels nor start/end positions");
  QSIM_CHECK(output.logits.defined(), ValueError,
             "task loss: the batch has labels but the model has no sequence-classification head");
  if (batch.labels.is_floating_point()) {
    QSIM_CHECK(output.logits.size(-1) == 1, ValueError,
               "task loss: regression labels need 1 model output, the model has {}", output.logits.size(-1));
    return torch::mse_loss(output.logits.squeeze(-1), batch.labels.to(output.logits.scalar_type()));
  }
  const int64_t num_labels = output.logits.size(-1);
  QSIM_CHECK(num_labels > 1, ValueError, "task loss: class labels need >= 2 model outputs, the model has {}",
             num_labels);
  const int64_t max_label = batch.labels.max().item<int64_t>();
  const int64_t min_label = batch.labels.min().item<int64_t>();
  QSIM_CHECK(min_label >= 0 && max_label < num_labels, ValueError,
             "task loss: label {} out of range for a model with {} outputs", min_label < 0 ? min_label : max_label,
             num_labels);
  return torch::nn::functional::cross_entropy(output.logits, batch.labels);
}

}  // namespace qsim::train
