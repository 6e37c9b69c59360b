#pragma once

// Fake-quant tensor ops on the CPU (quantization-semantics.md §2, §5.3, §6): they
// validate once, then run the kernels of kernels/cpu over chunks in parallel.
//
// Conventions shared by every op here:
// * `axis` empty = per tensor (exactly one encoding / parameter); otherwise one per
//   slice along `axis` (negative counts from the end), any axis.
// * Input dtype float32, float16 or bfloat16 (the latter two computed in float32 and
//   returned in the input's dtype); CPU tensors. Anything else is a ValueError.
// * An empty tensor gives an empty result (parameters are still validated).
// * NaN inputs give NaN outputs.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "qsim/quant/encoding.hpp"

namespace qsim::quant {

/// How the learned grid scales its input before rounding.
enum class ScaleMode {
  divide,               ///< x / Δ in float32: AIMET's range learning (the default)
  multiply_reciprocal,  ///< x · f32(1/Δ): PyTorch's fake_quantize_* ops (golden parity)
};

// ---- static grid (§2): AIMET's C++ kernel -------------------------------------

/// Quantize–dequantize on the static grid. Autograd-aware: when x requires grad
/// the backward is the straight-through estimator g·[E.min ≤ y ≤ E.max] (§2).
at::Tensor fake_quantize_static(const at::Tensor& x, const std::vector<Encoding>& encodings,
                                std::optional<int64_t> axis = std::nullopt);
at::Tensor fake_quantize_static(const at::Tensor& x, const Encoding& encoding);

/// Same, into a preallocated float32 tensor of x's shape (no autograd); `out` may be
/// x itself (each element is read before it is written).
void fake_quantize_static_out(const at::Tensor& x, const std::vector<Encoding>& encodings,
                              std::optional<int64_t> axis, at::Tensor& out);

/// Straight-through gradient of the static grid given the saved output y (§2).
at::Tensor fake_quantize_static_backward(const at::Tensor& y, const at::Tensor& grad,
                                         const std::vector<Encoding>& encodings, std::optional<int64_t> axis);

/// Quantize only: the static float path's integer codes as float32 (no integer
/// clamp, so out-of-grid codes such as −1 or N+1 show). Signed codes (minus
/// 2^(b−1)) where the scheme is symmetric and the channel's offset is negative,
/// as AIMET's Quantize op; unsigned otherwise.
at::Tensor quantize_static(const at::Tensor& x, const std::vector<Encoding>& encodings,
                           std::optional<int64_t> axis, Symmetry symmetry);

/// Dequantize only: Δ·(code + shift + o), the inverse of quantize_static's codes.
at::Tensor dequantize_static(const at::Tensor& codes, const std::vector<Encoding>& encodings,
                             std::optional<int64_t> axis, Symmetry symmetry);

// ---- learned grid (§5.3) with explicit parameters -----------------------------

/// The learned grid's parameters: delta and offset float32 tensors of one value
/// per channel (or one), and the shared number of steps N (q ∈ [0, N]).
/// PyTorch's (scale, zero_point, quant_min, quant_max) is delta = f32(scale),
/// offset = quant_min − zero_point, steps = quant_max − quant_min.
struct LearnedGridParams {
  at::Tensor delta;
  at::Tensor offset;
  double steps = 255.0;
};

/// y = (clamp(round_even(t) − o, 0, N) + o)·Δ, t = x/Δ or x·(1/Δ) per `mode`. No autograd.
at::Tensor fake_quantize_learned(const at::Tensor& x, const LearnedGridParams& grid, std::optional<int64_t> axis,
                                 ScaleMode mode = ScaleMode::divide);

/// Same, into a preallocated contiguous float32 tensor of x's shape (may be x itself).
void fake_quantize_learned_out(const at::Tensor& x, const LearnedGridParams& grid, std::optional<int64_t> axis,
                               ScaleMode mode, at::Tensor& out);

/// One fused pass of the range-learning backward (§5.4): grad_input = g·k and, per
/// channel, in double, sum_s = Σ (q + (offset_in_sum ? o : 0) − k·t)·g and
/// sum_z = Σ (1 − k)·g (float64 tensors of one value per channel). The sums do
/// not depend on the thread count.
struct LearnedBackward {
  at::Tensor grad_input;
  at::Tensor sum_s;
  at::Tensor sum_z;
};
LearnedBackward fake_quantize_learned_backward(const at::Tensor& x, const at::Tensor& grad,
                                               const LearnedGridParams& grid, std::optional<int64_t> axis,
                                               ScaleMode mode, bool offset_in_sum);

}  // namespace qsim::quant
