#pragma once

// 8-bit codes as LibTorch quint8 tensors: how an integer backend hands activations
// from one integer op to the next (sim/int8_backend.hpp) without a float round trip.
// A code tensor is per-tensor affine, scale Δ and zero point zp = −o of a static
// 8-bit grid; its values are exactly the simulation's, (q − zp)·Δ = Δ·(q + o).
// Conversions run on kernels/cpu/quantize_u8 (never at::dequantize, whose vector
// path rounds (q − zp)·Δ differently), on ATen's threads.

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace qsim::quant {

/// The grid of a code tensor.
struct CodeGrid {
  float delta = 1.0f;
  int32_t zero_point = 0;
  bool operator==(const CodeGrid& other) const { return delta == other.delta && zero_point == other.zero_point; }
};

/// Whether `t` is a CPU quint8 per-tensor-affine tensor (a code tensor).
bool is_code_tensor(const at::Tensor& t);

/// The grid `codes` is on; `codes` must be a code tensor.
CodeGrid grid_of(const at::Tensor& codes);

/// Wraps contiguous uint8 `codes` (any shape) as a code tensor on `grid`, sharing storage.
at::Tensor as_code_tensor(const at::Tensor& codes, CodeGrid grid);

/// The float values of a code tensor: (q − zp)·Δ per element.
at::Tensor codes_to_float(const at::Tensor& codes);

/// The codes of float `x` on `grid`: clamp(round_half_even(x/Δ) + zp, 0, 255); exact
/// (the inverse of codes_to_float) for values already on the grid.
at::Tensor float_to_codes(const at::Tensor& x, CodeGrid grid);

}  // namespace qsim::quant
