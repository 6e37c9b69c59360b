#pragma once

// A cheap score of a quantized model: the SQNR (dB) of its task outputs (logits;
// start/end logits for question answering) against the FP32 model's on the first
// rows of some data — mixed precision's phase-1 callback. Higher is better.
//
//   qsim::ptq::OutputSqnr sqnr(train_data, 128, 32);
//   sim.set_mode(qsim::sim::Mode::fp32);
//   sqnr.set_reference(model);
//   ... sim.set_mode(quantized); double db = sqnr(model);

#include <cstdint>

#include <ATen/ATen.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::ptq {

class OutputSqnr {
 public:
  /// The first `samples` rows of `data` in batches of `batch_size` (both > 0, else ConfigError).
  OutputSqnr(const train::TaskDataset& data, int64_t samples, int64_t batch_size);
  /// Keeps `fp32`'s outputs as the reference.
  void set_reference(models::bert::BertForTask& fp32);
  /// 10·log10(Σ ref² / Σ (out − ref)²); +inf when identical. ConfigError without a reference.
  double operator()(models::bert::BertForTask& model) const;

 private:
  at::Tensor outputs(models::bert::BertForTask& model) const;
  train::TaskDataset data_;
  int64_t batch_size_;
  at::Tensor reference_;
};

}  // namespace qsim::ptq
