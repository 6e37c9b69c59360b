#pragma once

// TrainOptions: the knobs of the fine-tuning / QAT loop (Trainer), torch::nn style:
// TrainOptions().learning_rate(1e-3).epochs(2). The defaults are the QAT recipe of
// Bondarenko et al., "Understanding and Overcoming the Challenges of Efficient
// Transformer Quantization" (EMNLP 2021): AdamW with lr 5e-5 for weights and for
// quantization ranges, weight decay 0, dropout 0, batch 8 (sequence length 128 is
// the data's max_seq_length), linear decay, gradient clipping at 1. The same loop
// trains FP32 models (every quantizer off): there the range learning rate is unused.

#include <cstdint>
#include <optional>
#include <string>

#include <torch/arg.h>

namespace qsim::train {

struct TrainOptions {
  /// Throws qsim::ConfigError naming the first option out of range.
  void validate() const;

  /// AdamW learning rate of the model weights.
  TORCH_ARG(double, learning_rate) = 5e-5;
  /// AdamW learning rate of the quantizers' encoding_min/encoding_max (range learning).
  TORCH_ARG(double, range_learning_rate) = 5e-5;
  /// Decoupled weight decay of the weights (ranges are never decayed).
  TORCH_ARG(double, weight_decay) = 0.0;
  TORCH_ARG(double, adam_beta1) = 0.9;
  TORCH_ARG(double, adam_beta2) = 0.999;
  TORCH_ARG(double, adam_epsilon) = 1e-8;
  /// Linear warm-up over this many steps; when 0, warmup_ratio of all steps.
  TORCH_ARG(int64_t, warmup_steps) = 0;
  TORCH_ARG(double, warmup_ratio) = 0.0;
  /// Global L2 norm the gradients are clipped to; <= 0 turns clipping off.
  TORCH_ARG(double, max_grad_norm) = 1.0;
  /// Probability every Dropout block is set to; empty keeps the model's config.
  TORCH_ARG(std::optional<double>, dropout) = 0.0;
  TORCH_ARG(int64_t, batch_size) = 8;
  /// Passes over the data (when max_steps is 0).
  TORCH_ARG(int64_t, epochs) = 1;
  /// Stops after this many optimizer steps; 0 = epochs decide.
  TORCH_ARG(int64_t, max_steps) = 0;
  /// Seeds the shuffling and torch's CPU generator (dropout): same seed, same run.
  TORCH_ARG(uint64_t, seed) = 42;
  /// Cut each batch to its longest sequence (exact only with the Hugging Face mask,
  /// whose padded keys get exactly zero attention; the zoo's −6 mask does not).
  TORCH_ARG(bool, trim_padding) = false;
  /// Form batches of similar length (sorted within shuffled pools of 50 batches,
  /// then the batches shuffled), as Hugging Face's group_by_length: with
  /// trim_padding, far fewer padded tokens on data of mixed lengths.
  TORCH_ARG(bool, group_by_length) = false;
  /// Recompute each encoder layer during backward instead of keeping its
  /// activations (BertEncoder::gradient_checkpointing): same gradients, far less
  /// peak memory, about one extra forward per step.
  TORCH_ARG(bool, gradient_checkpointing) = false;
  /// Log the mean loss every this many steps (0 = never).
  TORCH_ARG(int64_t, log_every) = 50;
  /// Write a checkpoint to checkpoint_dir every this many steps (0 = never).
  TORCH_ARG(int64_t, checkpoint_every) = 0;
  TORCH_ARG(std::string, checkpoint_dir);
};

}  // namespace qsim::train
