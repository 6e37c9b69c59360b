#pragma once

// The quant layer's CUDA entry points. fake_quant.cpp validates the tensors and
// builds the grid exactly as for the CPU; these launch kernels/cuda on the input's
// device and LibTorch's current stream, with outputs and scratch from LibTorch's
// caching allocator (no cudaMalloc, no host synchronisation).
//
// Plain C++ declarations on ATen types, so the device-agnostic code can call them:
// fake_quant_cuda.cpp defines them when the build dispatches CUDA tensors
// (QSIM_CUDA_ENABLED); fake_quant_cuda_unavailable.cpp otherwise, where they throw
// (check_float_input already refuses CUDA tensors there).
//
// Tensors: contiguous, on one CUDA device. x and out share a dtype (float32,
// float16 or bfloat16) except the codes, which are always float32. Grid tensors
// are float32 [rows, channels] on x's device.

#include <ATen/core/Tensor.h>

#include "kernels/cpu/fake_quant_cpu.hpp"

namespace qsim::quant::detail::cuda {

using kernels::cpu::ChannelLayout;

/// The learned grid (§5.3) on the device: one value per channel each.
struct DeviceLearnedGrid {
  at::Tensor delta;
  at::Tensor inv_delta;
  at::Tensor offset;
  float steps = 255.0f;
  bool multiply = false;
};

/// out = Δ·(q + o); grid rows: lo, hi, Δ, o.
void static_forward(const at::Tensor& x, const at::Tensor& out, ChannelLayout layout, const at::Tensor& grid);

/// out (float32) = q − shift; grid rows: lo, hi, Δ, o, shift.
void static_codes(const at::Tensor& x, const at::Tensor& out, ChannelLayout layout, const at::Tensor& grid);

/// gi = g·[min ≤ y ≤ max]; bounds rows: min, max. y, g and gi share a dtype.
void static_ste_backward(const at::Tensor& y, const at::Tensor& g, const at::Tensor& gi, ChannelLayout layout,
                         const at::Tensor& bounds);

/// out = (clamp(round_even(t) − o, 0, N) + o)·Δ.
void learned_forward(const at::Tensor& x, const at::Tensor& out, ChannelLayout layout, const DeviceLearnedGrid& grid);

/// The fused §5.4 backward: gi = g·k; sum_s and sum_z (float64 [channels] on the
/// device, zeroed by the caller) receive the per-channel sums.
void learned_backward(const at::Tensor& x, const at::Tensor& g, const at::Tensor& gi, ChannelLayout layout,
                      const DeviceLearnedGrid& grid, bool offset_in_sum, const at::Tensor& sum_s,
                      const at::Tensor& sum_z);

}  // namespace qsim::quant::detail::cuda
