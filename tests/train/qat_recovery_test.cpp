// End to end, fast: a tiny BERT trained in FP32, simulated at W4A8 after
// calibration only (PTQ), then range-learning QAT. QAT must lower the quantized
// model's loss below its PTQ start — the property the demo's QAT rows rely on.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/sim/quant_sim.hpp"
#include "qsim/train/predict.hpp"
#include "qsim/train/task_loss.hpp"
#include "qsim/train/trainer.hpp"
#include "tiny_task.hpp"

namespace qsim::train {
namespace {

double mean_loss(models::bert::BertForTask& model, const TaskDataset& data) {
  torch::NoGradGuard no_grad;
  model->eval();
  const TaskBatch batch = data.batch(0, data.size());
  const models::bert::BertTaskOutput out = model(batch.input_ids, batch.token_type_ids, batch.attention_mask);
  return task_loss(out, batch).item<double>();
}

TEST(QatRecoveryTest, QatLowersTheLossOfAW4A8ModelBelowItsPtqStart) {
  auto model = test::tiny_model();
  const TaskDataset data = test::marker_task(128);
  Trainer(model, TrainOptions().learning_rate(2e-3).batch_size(16).epochs(12).log_every(0)).train(data);
  const double fp32 = mean_loss(model, data);
  ASSERT_LT(fp32, 0.3) << "the FP32 model did not learn the task";

  sim::QuantSim quantsim(model, sim::QuantSimConfig::aimet_default(),
                         sim::SimOptions().scheme(sim::QuantScheme::tf_range_learning).param_bitwidth(4));
  quantsim.compute_encodings([&](torch::nn::Module&) { run_batches(model, data, 32, 0); });
  quantsim.set_mode(sim::Mode::quantized);
  const double ptq = mean_loss(model, data);
  EXPECT_GT(ptq, fp32) << "W4A8 PTQ should cost something on this model";

  quantsim.set_mode(sim::Mode::range_learning);
  Trainer(model, TrainOptions().learning_rate(1e-3).range_learning_rate(1e-3).batch_size(16).max_steps(60).log_every(0))
      .train(data);
  quantsim.set_mode(sim::Mode::quantized);
  const double qat = mean_loss(model, data);
  EXPECT_LT(qat, ptq - 0.5 * (ptq - fp32)) << "FP32 " << fp32 << ", PTQ " << ptq << ", QAT " << qat;
}

}  // namespace
}  // namespace qsim::train
