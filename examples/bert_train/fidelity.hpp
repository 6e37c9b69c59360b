#pragma once

// How close a quantized model's dev outputs are to the FP32 model's, beside the
// metric: the share of predictions that agree with FP32's and the mean squared logit
// difference. On an 872-sentence dev set a point of accuracy is 9 sentences; these
// move with every sentence, so they show changes the metric rounds away.

#include <optional>

#include <nlohmann/json.hpp>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/train/predict.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::examples {

struct Fidelity {
  std::optional<double> agreement;  ///< % of predictions equal to FP32's (classification only)
  double logit_mse = 0.0;           ///< mean over sentences and outputs of (logit − FP32 logit)²
  nlohmann::json to_json() const;
};

class FidelityMeter {
 public:
  FidelityMeter(const train::TaskDataset& dev, const train::PredictOptions& options) : dev_(dev), options_(options) {}
  /// Keeps the FP32 model's logits on dev.
  void set_reference(models::bert::BertForTask& fp32);
  /// `model` (in whatever mode it is) against the reference.
  Fidelity measure(models::bert::BertForTask& model) const;

 private:
  const train::TaskDataset& dev_;
  train::PredictOptions options_;
  at::Tensor reference_;
};

}  // namespace qsim::examples
