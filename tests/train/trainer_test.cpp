#include "qsim/train/trainer.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/nn/quantizable.hpp"
#include "qsim/quant/encoding.hpp"
#include "support/expect_error.hpp"
#include "tiny_task.hpp"

namespace qsim::train {
namespace {

using test::marker_task;
using test::tiny_model;

double mean(const std::vector<double>& v, size_t begin, size_t end) {
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(begin), v.begin() + static_cast<std::ptrdiff_t>(end),
                         0.0) /
         static_cast<double>(end - begin);
}

TrainOptions fast_options() {
  return TrainOptions().learning_rate(1e-3).range_learning_rate(1e-3).batch_size(8).epochs(8).log_every(0);
}

// Stand-in for QuantSim in range-learning mode, independent of the sim layer: enable
// every output and weight quantizer, calibrate min/max on one batch, switch to the
// learned grid.
void enable_learned_quantizers(models::bert::BertForTask& model, const TaskDataset& data) {
  std::vector<std::pair<quant::QuantizerNode, quant::Symmetry>> nodes;
  for (const auto& item : model->named_modules()) {
    auto* block = dynamic_cast<nn::Quantizable*>(item.value().get());
    if (block == nullptr) continue;
    nodes.emplace_back(block->output_quantizer, quant::Symmetry::asymmetric);
    for (const auto& param : block->param_quantizers())
      if (param.first == "weight") nodes.emplace_back(param.second, quant::Symmetry::symmetric);
  }
  std::map<quant::QuantizerNodeImpl*, std::pair<double, double>> ranges;
  for (auto& [node, symmetry] : nodes) {
    node->options.symmetry(symmetry);
    node->set_enabled(true);
    auto* key = node.get();
    ranges[key] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest()};
    node->set_observer([&ranges, key](const torch::Tensor& x) {
      auto& r = ranges[key];
      r.first = std::min(r.first, x.min().item<double>());
      r.second = std::max(r.second, x.max().item<double>());
    });
  }
  {
    torch::NoGradGuard no_grad;
    model->eval();
    const TaskBatch batch = data.batch(0, 16);
    model(batch.input_ids, batch.token_type_ids, batch.attention_mask);
  }
  for (auto& [node, symmetry] : nodes) {
    node->set_observer({});
    const auto [lo, hi] = ranges[node.get()];
    node->set_encoding(quant::make_tf_encoding(lo, hi, 8, symmetry));
    node->switch_to_learned_grid();
  }
}

std::vector<float> range_values(models::bert::BertForTask& model) {
  std::vector<float> values;
  for (const auto& item : model->named_parameters())
    if (is_range_parameter(item.key()))
      for (int64_t i = 0; i < item.value().numel(); ++i) values.push_back(item.value().flatten()[i].item<float>());
  return values;
}

TEST(TrainerTest, Fp32TrainingLowersTheLoss) {
  auto model = tiny_model();
  Trainer trainer(model, fast_options());
  EXPECT_EQ(trainer.num_range_tensors(), 0);
  const TrainResult result = trainer.train(marker_task(96));
  ASSERT_EQ(result.losses.size(), 96u);
  EXPECT_EQ(result.steps, 96);
  EXPECT_LT(mean(result.losses, 84, 96), 0.8 * mean(result.losses, 0, 12));
  EXPECT_FALSE(model->is_training());
}

TEST(TrainerTest, QatLowersTheLossAndMovesRanges) {
  auto model = tiny_model();
  const TaskDataset data = marker_task(96);
  enable_learned_quantizers(model, data);
  Trainer trainer(model, fast_options());
  ASSERT_GT(trainer.num_range_tensors(), 0);
  const std::vector<float> before = range_values(model);
  const TrainResult result = trainer.train(data);
  const std::vector<float> after = range_values(model);
  ASSERT_EQ(before.size(), after.size());
  size_t moved = 0;
  for (size_t i = 0; i < before.size(); ++i) moved += before[i] != after[i] ? 1 : 0;
  EXPECT_GT(moved, before.size() / 2) << moved << " of " << before.size() << " range values moved";
  EXPECT_LT(mean(result.losses, 84, 96), mean(result.losses, 0, 12) - 0.02);
}

TEST(TrainerTest, RangeLearningRateZeroFreezesRanges) {
  auto model = tiny_model();
  const TaskDataset data = marker_task(32);
  enable_learned_quantizers(model, data);
  Trainer trainer(model, fast_options().range_learning_rate(0.0).max_steps(3));
  const std::vector<float> before = range_values(model);
  trainer.train(data);
  // Gating may only raise max above min + 1e-5 or clamp around 0; 0-rate AdamW never moves them.
  EXPECT_EQ(before, range_values(model));
}

TEST(TrainerTest, SameSeedGivesTheSameLossSequence) {
  const TaskDataset data = marker_task(48);
  const auto options = fast_options().dropout(0.1).epochs(2);  // 12 steps
  auto a = tiny_model(5);
  auto b = tiny_model(5);
  const TrainResult ra = Trainer(a, options).train(data);
  const TrainResult rb = Trainer(b, options).train(data);
  EXPECT_EQ(ra.losses, rb.losses);
  auto c = tiny_model(5);
  const TrainResult rc = Trainer(c, fast_options().dropout(0.1).epochs(2).seed(43)).train(data);
  EXPECT_NE(ra.losses, rc.losses);
}

// How many layer-checkpoint nodes the autograd graph of a training forward holds.
int64_t checkpoint_nodes(models::bert::BertForTask& model, const TaskDataset& data) {
  model->train();
  const TaskBatch batch = data.batch(0, 4);
  const torch::Tensor logits = model(batch.input_ids, batch.token_type_ids, batch.attention_mask).logits;
  std::vector<torch::autograd::Node*> pending = {logits.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  int64_t count = 0;
  while (!pending.empty()) {
    torch::autograd::Node* node = pending.back();
    pending.pop_back();
    if (node == nullptr || !seen.insert(node).second) continue;
    if (node->name().find("LayerCheckpoint") != std::string::npos) ++count;
    for (const auto& edge : node->next_edges()) pending.push_back(edge.function.get());
  }
  model->eval();
  return count;
}

// Gradient checkpointing recomputes each layer in backward: with dropout on (the
// recomputation must replay the same masks) and with every quantizer learning its
// range, the training run is the same as without it.
TEST(TrainerTest, GradientCheckpointingTrainsExactlyAsWithout) {
  const TaskDataset data = marker_task(32);
  for (const bool qat : {false, true}) {
    const auto options = fast_options().dropout(0.1).epochs(1);  // 4 steps
    auto plain = tiny_model(5);
    auto checkpointed = tiny_model(5);
    if (qat) {
      enable_learned_quantizers(plain, data);
      enable_learned_quantizers(checkpointed, data);
    }
    const TrainResult a = Trainer(plain, options).train(data);
    const TrainResult b = Trainer(checkpointed, TrainOptions(options).gradient_checkpointing(true)).train(data);
    ASSERT_EQ(a.losses.size(), b.losses.size());
    for (size_t i = 0; i < a.losses.size(); ++i) EXPECT_NEAR(a.losses[i], b.losses[i], 1e-6) << "qat " << qat << " step " << i;
    const auto pa = plain->named_parameters();
    const auto pb = checkpointed->named_parameters();
    for (const auto& item : pa) {
      const double diff = (item.value() - pb[item.key()]).abs().max().item<double>();
      EXPECT_LE(diff, 1e-6) << "qat " << qat << ": " << item.key();
    }
    // The equal runs above must come from the checkpointed path: one recomputing
    // autograd node per encoder layer in a training forward's graph.
    EXPECT_EQ(checkpoint_nodes(checkpointed, data), checkpointed->config.num_hidden_layers);
    EXPECT_EQ(checkpoint_nodes(plain, data), 0);
  }
}

TEST(TrainerTest, ResumedRunContinuesExactly) {
  const TaskDataset data = marker_task(40);
  const auto options = fast_options().dropout(0.1).epochs(4).warmup_steps(3);  // 20 steps
  auto straight = tiny_model(9);
  const TrainResult full = Trainer(straight, options).train(data);
  ASSERT_EQ(full.losses.size(), 20u);

  test::ScratchDir dir("train_ckpt");
  auto first = tiny_model(9);
  Trainer first_trainer(first, TrainOptions(options).max_steps(0).checkpoint_every(7).checkpoint_dir(dir.str()));
  first_trainer.on_step = [](const StepInfo& info) {
    if (info.step == 7) throw std::runtime_error("stop");  // simulated crash right after the checkpoint
  };
  EXPECT_THROW(first_trainer.train(data), std::runtime_error);

  auto resumed = tiny_model(123);  // different init: everything must come from the checkpoint
  Trainer resumed_trainer(resumed, options);
  resumed_trainer.load_checkpoint(dir.str());
  EXPECT_EQ(resumed_trainer.step(), 7);
  const TrainResult rest = resumed_trainer.train(data);
  ASSERT_EQ(rest.losses.size(), 13u);
  EXPECT_EQ(rest.losses, std::vector<double>(full.losses.begin() + 7, full.losses.end()));
  const auto p = straight->named_parameters();
  const auto q = resumed->named_parameters();
  for (const auto& item : p) EXPECT_TRUE(torch::equal(item.value(), q[item.key()])) << item.key();
}

// Parameters of `model` as one flat tensor, to compare checkpoints.
torch::Tensor flat_parameters(const models::bert::BertForTask& model) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : model->parameters()) parts.push_back(p.detach().reshape({-1}));
  return torch::cat(parts);
}

TEST(TrainerTest, CheckpointsReplaceEachOtherWholeAndLeaveNoScratch) {
  namespace fs = std::filesystem;
  const TaskDataset data = marker_task(16);
  test::ScratchDir root("train_atomic");
  const std::string dir = (fs::path(root.str()) / "ckpt").string();
  auto model = tiny_model(4);
  Trainer trainer(model, TrainOptions(fast_options()).epochs(1));
  trainer.save_checkpoint(dir);
  trainer.train(data);
  // A crashed save left half-written scratch: it must not leak into the next one.
  fs::create_directories(dir + ".partial");
  std::ofstream(dir + ".partial/model.pt") << "truncated";
  trainer.save_checkpoint(dir);
  EXPECT_FALSE(fs::exists(dir + ".partial"));
  EXPECT_FALSE(fs::exists(dir + ".old"));

  auto restored = tiny_model(77);
  Trainer restored_trainer(restored, fast_options());
  restored_trainer.load_checkpoint(dir);
  EXPECT_EQ(restored_trainer.step(), trainer.step());
  EXPECT_TRUE(torch::equal(flat_parameters(restored), flat_parameters(model)));
}

TEST(TrainerTest, ACrashBetweenTheRenamesResumesFromThePreviousCheckpoint) {
  namespace fs = std::filesystem;
  test::ScratchDir root("train_rename_crash");
  const std::string dir = (fs::path(root.str()) / "ckpt").string();
  auto model = tiny_model(5);
  Trainer trainer(model, fast_options());
  trainer.save_checkpoint(dir);
  // The state a crash after "move the previous aside" and before "rename the new
  // one into place" leaves: <dir>.old complete, <dir> absent.
  fs::rename(dir, dir + ".old");
  EXPECT_TRUE(checkpoint_exists(dir));
  EXPECT_FALSE(checkpoint_exists(dir + "-elsewhere"));
  auto restored = tiny_model(78);
  Trainer restored_trainer(restored, fast_options());
  restored_trainer.load_checkpoint(dir);
  EXPECT_TRUE(torch::equal(flat_parameters(restored), flat_parameters(model)));
}

TEST(TrainerTest, LoadCheckpointNamesTheMissingFile) {
  test::ScratchDir dir("train_missing");
  auto model = tiny_model();
  Trainer trainer(model, fast_options());
  QSIM_EXPECT_THROW_MSG(trainer.load_checkpoint(dir.str()), IoError, {"model.pt", "missing"});
}

TEST(TrainerTest, RejectsBadOptionsAndData) {
  auto model = tiny_model();
  QSIM_EXPECT_THROW_MSG(Trainer(model, TrainOptions().batch_size(0)), ConfigError, {"batch_size", "0"});
  QSIM_EXPECT_THROW_MSG(Trainer(model, TrainOptions().dropout(1.5)), ConfigError, {"dropout", "1.5"});
  QSIM_EXPECT_THROW_MSG(Trainer(model, TrainOptions().checkpoint_every(5)), ConfigError, {"checkpoint_dir"});
  Trainer trainer(model, fast_options().max_steps(1));
  TaskDataset bad = marker_task(8);
  bad.labels = torch::full({8}, 5, torch::kLong);
  QSIM_EXPECT_THROW_MSG(trainer.train(bad), ValueError, {"label 5", "2 outputs"});
}

}  // namespace
}  // namespace qsim::train
