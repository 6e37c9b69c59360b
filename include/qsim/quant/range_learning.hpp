#pragma once

// Range learning (quantization-semantics.md §5, "TF range learning"): learnable
// float32 min/max, the learned-grid forward of §5.3 and the custom gradients of
// §5.4 for the input, min and max, as a LibTorch autograd function.

#include <cstdint>
#include <optional>

#include <ATen/core/Tensor.h>

#include "qsim/quant/encoding.hpp"
#include "qsim/quant/fake_quant.hpp"

namespace qsim::quant {

struct RangeLearningOptions {
  int bitwidth = 8;
  /// asymmetric; symmetric (signed); strict_symmetric (signed, N = 2^b − 2);
  /// unsigned_symmetric (unsigned when no channel has min < 0 < max, §5.2).
  Symmetry symmetry = Symmetry::asymmetric;
  std::optional<int64_t> channel_axis;  ///< empty = per tensor
  ScaleMode scale_mode = ScaleMode::divide;
  /// Embedding groups (embedding_groups.hpp): when defined, an int64 tensor with one
  /// group index per channel along `channel_axis`, and min/max hold one value per
  /// group. The §5.4 sums of a group's channels are added in double before the
  /// gradient formulas, so a group learns exactly as one tensor of its channels.
  at::Tensor channel_groups;
};

/// The effective mode of one forward (§5.2), decided jointly for all channels.
enum class LearnedMode { asymmetric, signed_symmetric, unsigned_symmetric };

/// §5.1 gating, in place on the parameters' data (float32, no autograd):
/// min ← min(min, 0); max ← max(max, 0); max ← max(max, min + 1e-5).
void gate_learned_range_(const at::Tensor& min, const at::Tensor& max);

LearnedMode learned_mode(const at::Tensor& min, const at::Tensor& max, Symmetry symmetry);

/// §5.3: the grid (Δ, o, N) the forward uses for gated min/max.
LearnedGridParams learned_grid_params(const at::Tensor& min, const at::Tensor& max, int bitwidth, Symmetry symmetry);

/// The per-group grid spread to the channels: row c is row channel_groups[c]
/// (`grid` itself when channel_groups is undefined).
LearnedGridParams expand_groups(const LearnedGridParams& grid, const at::Tensor& channel_groups);

/// Fake-quantizes x on the learned grid of (min, max) — which the caller has gated
/// — with gradients for x, min and max (§5.4). min/max hold one value (shape [] or
/// [1]) or one per channel along `options.channel_axis`. In unsigned mode min gets
/// no gradient (undefined), so an optimizer never moves it.
at::Tensor range_learning_quantize(const at::Tensor& x, const at::Tensor& min, const at::Tensor& max,
                                   const RangeLearningOptions& options);

/// The §5.4 gradients without autograd (one fused pass over x and grad).
/// grad_min/grad_max are shaped like min/max; grad_min is undefined in unsigned mode.
struct RangeLearningGrads {
  at::Tensor grad_input;
  at::Tensor grad_min;
  at::Tensor grad_max;
};
RangeLearningGrads range_learning_backward(const at::Tensor& x, const at::Tensor& grad, const at::Tensor& min,
                                           const at::Tensor& max, const RangeLearningOptions& options);

}  // namespace qsim::quant
