#pragma once

// Trainer: the fine-tuning / QAT loop. AdamW over two parameter groups, the model's
// weights and the quantizers' learnable ranges (every parameter named
// *.encoding_min / *.encoding_max, present once QuantSim is in range-learning
// mode), each with its own base rate under one LinearWarmupSchedule; global-norm
// gradient clipping; Dropout blocks set to options.dropout; batches drawn in a
// per-epoch permutation seeded by (seed, epoch), so a run is a pure function of the
// seed on CPU and a resumed run continues exactly where the checkpoint left off.
//
// Example (QAT):
//   sim.compute_encodings(...);   // tf_range_learning: now in range-learning mode
//   train::Trainer trainer(model, train::TrainOptions());   // after the mode switch
//   trainer.train(train_data);

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/adamw.h>
#include <torch/types.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/train/distributed.hpp"
#include "qsim/train/lr_schedule.hpp"
#include "qsim/train/task_dataset.hpp"
#include "qsim/train/train_options.hpp"

namespace qsim::train {

/// What the step callback sees after each optimizer step.
struct StepInfo {
  int64_t step = 0;         ///< steps completed (1-based after the first)
  int64_t total_steps = 0;
  int64_t epoch = 0;        ///< 0-based
  double loss = 0.0;        ///< this step's loss
  double learning_rate = 0.0;  ///< the weights' rate used for this step
};

struct TrainResult {
  std::vector<double> losses;  ///< one per step run by this call
  int64_t steps = 0;           ///< steps completed in total (including resumed ones)
  double seconds = 0.0;
};

class Trainer {
 public:
  /// Collects the trainable parameters now: build the trainer after switching
  /// QuantSim's mode. Throws qsim::ConfigError for invalid options.
  Trainer(models::bert::BertForTask model, TrainOptions options = {});

  /// Trains until options.max_steps (or epochs × batches of `data`) steps are done,
  /// continuing from step() when a checkpoint was loaded. Leaves the model in eval mode.
  TrainResult train(const TaskDataset& data);

  /// One optimizer step on `batch` at the full base rates (no schedule, no
  /// dropout change); for benchmarks and custom loops. Returns the loss.
  double train_step(const TaskBatch& batch);

  /// Writes model.pt (every parameter and buffer, ranges included), optimizer.pt,
  /// rng.pt and trainer_state.json to `dir`, atomically as a whole: written into
  /// `<dir>.partial`, then renamed over the previous checkpoint, so a crash leaves
  /// the old or the new checkpoint, never a mix. Throws qsim::IoError.
  void save_checkpoint(const std::string& dir) const;
  /// Restores what save_checkpoint wrote into this trainer's (identically built)
  /// model and optimizer (from `<dir>.old` when a save crashed between its renames).
  /// Throws qsim::IoError naming the missing or bad file.
  void load_checkpoint(const std::string& dir);

  int64_t step() const { return step_; }
  const TrainOptions& options() const { return options_; }
  /// Number of parameters in the weight and range groups.
  int64_t num_weight_tensors() const { return num_weights_; }
  int64_t num_range_tensors() const { return num_ranges_; }

  /// Called after every optimizer step (e.g. progress bars, tests).
  std::function<void(const StepInfo&)> on_step;

  /// Data-parallel training (train()): every rank runs the same steps; each takes
  /// its share of every batch's rows, and the gradients (weights and ranges) are
  /// averaged over the ranks, weighted by rows, before clipping and the optimizer
  /// step, so every rank applies the same update, the one of the whole batch (up to
  /// summation order). Every rank must call train() with the same data and options.
  /// The world must outlive the trainer's use of it; null or size 1: one process.
  void set_world(const World* world) { world_ = world; }

 private:
  int64_t total_steps(const TaskDataset& data) const;
  /// `share`: this rank's fraction of the batch's rows (1 in one process).
  double run_step(const TaskBatch& batch, double lr_factor, double share = 1.0);
  void average_gradients(double share);
  void write_checkpoint_files(const std::string& dir) const;

  models::bert::BertForTask model_;
  TrainOptions options_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  int64_t num_weights_ = 0;
  int64_t num_ranges_ = 0;
  int64_t step_ = 0;
  const World* world_ = nullptr;
  bool rng_restored_ = false;
};

/// Sets every qsim::nn::Dropout block under `module` to probability `p`.
void set_dropout(torch::nn::Module& module, double p);

/// True when load_checkpoint(dir) has a complete checkpoint to resume from (in
/// `dir`, or in `<dir>.old` after a save that crashed between its renames).
bool checkpoint_exists(const std::string& dir);

/// True for the learnable-range parameters (names ending in encoding_min / encoding_max).
bool is_range_parameter(const std::string& name);

}  // namespace qsim::train
