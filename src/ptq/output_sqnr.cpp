#include "qsim/ptq/output_sqnr.hpp"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "detail/check.hpp"

namespace qsim::ptq {

OutputSqnr::OutputSqnr(const train::TaskDataset& data, int64_t samples, int64_t batch_size) : batch_size_(batch_size) {
  QSIM_CHECK(samples > 0 && batch_size > 0, ConfigError, "output SQNR: samples and batch_size must be > 0, got {} and {}",
             samples, batch_size);
  QSIM_CHECK(data.size() > 0, ConfigError, "output SQNR: no data");
  data_ = data.head(samples);
}

at::Tensor OutputSqnr::outputs(models::bert::BertForTask& model) const {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<at::Tensor> parts;
  for (int64_t begin = 0; begin < data_.size(); begin += batch_size_) {
    const train::TaskBatch b = data_.batch(begin, std::min(data_.size(), begin + batch_size_));
    const models::bert::BertTaskOutput out = model(b.input_ids, b.token_type_ids, b.attention_mask);
    if (out.logits.defined()) {
      parts.push_back(out.logits.reshape({-1}).to(at::kCPU, at::kDouble));
    } else {
      // QA: real-token positions only.
      const at::Tensor real = b.attention_mask.to(at::kBool).to(out.start_logits.device());
      parts.push_back(out.start_logits.masked_select(real).to(at::kCPU, at::kDouble));
      parts.push_back(out.end_logits.masked_select(real).to(at::kCPU, at::kDouble));
    }
  }
  return at::cat(parts);
}

void OutputSqnr::set_reference(models::bert::BertForTask& fp32) { reference_ = outputs(fp32); }

double OutputSqnr::operator()(models::bert::BertForTask& model) const {
  QSIM_CHECK(reference_.defined(), ConfigError, "output SQNR: set_reference first");
  const at::Tensor out = outputs(model);
  const double signal = reference_.square().sum().item<double>();
  const double noise = (out - reference_).square().sum().item<double>();
  return noise > 0.0 ? 10.0 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
}

}  // namespace qsim::ptq
