#include "qsim/train/predict.hpp"

#include <algorithm>
#include <vector>

#include <torch/torch.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"

namespace qsim::train {
namespace {

models::bert::BertTaskOutput forward_batch(models::bert::BertForTask& model, const TaskBatch& batch,
                                           torch::Device device) {
  return model(batch.input_ids.to(device), batch.token_type_ids.to(device), batch.attention_mask.to(device));
}

torch::Tensor cat_or_empty(std::vector<torch::Tensor>& parts) {
  return parts.empty() ? torch::Tensor() : torch::cat(parts, 0);
}

}  // namespace

Predictions predict(models::bert::BertForTask& model, const TaskDataset& data, const PredictOptions& options) {
  QSIM_CHECK(options.batch_size > 0, ConfigError, "predict: batch_size must be > 0, got {}", options.batch_size);
  data.validate();
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<torch::Tensor> logits, starts, ends;
  const int64_t n = data.size();
  const int64_t num_batches = (n + options.batch_size - 1) / options.batch_size;
  for (int64_t b = 0; b < num_batches; ++b) {
    const int64_t begin = b * options.batch_size;
    const TaskBatch batch = data.batch(begin, std::min(n, begin + options.batch_size), options.trim_padding);
    const models::bert::BertTaskOutput out = forward_batch(model, batch, options.device);
    if (out.logits.defined()) logits.push_back(out.logits.to(torch::kCPU));
    if (out.start_logits.defined()) {
      // Trimmed batches are narrower than the data: pad back with -inf-like logits.
      const int64_t missing = data.max_seq_length() - out.start_logits.size(1);
      auto pad = [missing](const torch::Tensor& t) {
        return missing > 0 ? torch::constant_pad_nd(t.to(torch::kCPU), {0, missing}, -1e4) : t.to(torch::kCPU);
      };
      starts.push_back(pad(out.start_logits));
      ends.push_back(pad(out.end_logits));
    }
    if (options.log_every > 0 && ((b + 1) % options.log_every == 0 || b + 1 == num_batches))
      logger()->info("predict: batch {}/{} ({} examples)", b + 1, num_batches, std::min(n, begin + options.batch_size));
  }
  return {cat_or_empty(logits), cat_or_empty(starts), cat_or_empty(ends)};
}

void run_batches(models::bert::BertForTask& model, const TaskDataset& data, int64_t batch_size, int64_t num_batches,
                 torch::Device device) {
  QSIM_CHECK(batch_size > 0, ConfigError, "run batches: batch_size must be > 0, got {}", batch_size);
  data.validate();
  torch::NoGradGuard no_grad;
  model->eval();
  const int64_t n = data.size();
  const int64_t available = (n + batch_size - 1) / batch_size;
  const int64_t count = num_batches > 0 ? std::min(num_batches, available) : available;
  for (int64_t b = 0; b < count; ++b) {
    const int64_t begin = b * batch_size;
    forward_batch(model, data.batch(begin, std::min(n, begin + batch_size)), device);
  }
}

}  // namespace qsim::train
