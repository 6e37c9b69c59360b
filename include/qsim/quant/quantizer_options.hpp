#pragma once

// Options of one quantizer slot, in torch::nn style:
// QuantizerOptions(8).symmetry(Symmetry::symmetric).enabled(true).

#include <cstdint>
#include <optional>

#include <torch/arg.h>

#include "qsim/quant/encoding.hpp"
#include "qsim/quant/fake_quant.hpp"

namespace qsim::quant {

/// Which quantize–dequantize a quantizer runs.
enum class Grid {
  static_grid,   ///< §2: AIMET's C++ kernel on a fixed encoding (ties away, no integer clamp)
  learned_grid,  ///< §5: range learning on learnable min/max (ties to even, integer clamp)
};

struct QuantizerOptions {
  explicit QuantizerOptions(int bitwidth = 8) : bitwidth_(bitwidth) {}
  /// 1..32 (≥ 2 for the signed symmetric schemes); checked where used.
  TORCH_ARG(int, bitwidth) = 8;
  TORCH_ARG(Symmetry, symmetry) = Symmetry::asymmetric;
  /// Empty = per tensor; otherwise one encoding per slice along this axis.
  TORCH_ARG(std::optional<int64_t>, channel_axis);
  TORCH_ARG(Grid, grid) = Grid::static_grid;
  /// Disabled quantizers are the identity (return their input, no copy).
  TORCH_ARG(bool, enabled) = false;
  /// Learned grid only: x/Δ (AIMET) or x·(1/Δ) (PyTorch's convention).
  TORCH_ARG(ScaleMode, scale_mode) = ScaleMode::divide;
  /// Per-embedding-group quantization along the last axis (embedding_groups.hpp):
  /// 0 = off; K ≥ 1 = one encoding per group of channels. Activations only; not
  /// combined with channel_axis.
  TORCH_ARG(int64_t, embedding_groups) = 0;
};

std::string_view to_string(Grid grid);
/// Parses "static" / "learned" (also "static_grid" / "learned_grid").
Grid parse_grid(std::string_view name);

}  // namespace qsim::quant
