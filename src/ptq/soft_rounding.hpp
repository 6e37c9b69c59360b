#pragma once

// SoftRounding: what every AdaRound layer shares, whatever the layer computes:
// the per-weight variable V, Adam's state, β's schedule and the element-wise steps
// (kernels/cpu/adaround.hpp) over the weight's rows, run on ATen's threads in fixed
// blocks of rows so that results do not depend on the thread count. All buffers are
// allocated once: a step allocates no tensor memory.

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/cpu/adaround.hpp"
#include "qsim/ptq/adaround.hpp"

namespace qsim::ptq::detail {

/// Δ·clamp(round(w/Δ), code_min, code_max) row by row: nearest rounding on the grid.
at::Tensor nearest_rounding(const at::Tensor& weight, const WeightGrid& grid);

class SoftRounding {
 public:
  /// weight: [rows, cols] float32 (copied); grid: per tensor or one per row.
  SoftRounding(const at::Tensor& weight, const WeightGrid& grid, const AdaroundOptions& options);

  /// W̃ of the current V (keeps σ(V) and |2h − 1| for the next step).
  const at::Tensor& soft_weight();
  /// One Adam step on V from dL/dW̃ (`grad_w`, [rows, cols]) at `iteration`; returns the
  /// rounding loss Σ (1 − |2h − 1|^β) when the regularizer is on, else 0.
  double step(const at::Tensor& grad_w, int64_t iteration);
  /// β at `iteration`; 0 during the warm start (no regularizer).
  double beta(int64_t iteration) const;

  /// Δ·clamp(base + [V ≥ 0]): the learned rounding.
  at::Tensor hard_weight() const;
  /// Δ·clamp(round(w/Δ)): nearest rounding, for comparison.
  at::Tensor nearest_weight() const;

 private:
  kernels::cpu::AdaroundRows rows(int64_t begin, int64_t end) const;
  template <typename Body>
  void for_row_blocks(const Body& body) const;

  AdaroundOptions options_;
  WeightGrid grid_;
  std::vector<kernels::cpu::AdaroundGrid> grids_;
  bool per_row_ = false;
  at::Tensor weight_, base_, v_, sigma_, soft_, a_, a_pow_, m_, s_;
  int64_t adam_steps_ = 0;
};

}  // namespace qsim::ptq::detail
