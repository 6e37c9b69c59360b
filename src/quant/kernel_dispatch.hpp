#pragma once

// Internal helpers of the quant layer: validate a tensor once, describe its channel
// layout for kernels/cpu, and split the work over threads.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <initializer_list>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/cpu/fake_quant_cpu.hpp"

namespace qsim::quant::detail {

/// Elements per parallel chunk: big enough to amortise scheduling, small enough
/// to balance two to sixteen threads on 1M-element tensors.
inline constexpr int64_t kGrainSize = 32768;

/// Throws ValueError unless x is a float32/float16/bfloat16 tensor on the CPU, or
/// on a CUDA device in a build that dispatches CUDA tensors (QSIM_CUDA_ENABLED).
void check_float_input(const at::Tensor& x, std::string_view what);

/// Throws ValueError naming both devices unless `other` (named `other_name`) is on x's device.
void check_same_device(const at::Tensor& x, const at::Tensor& other, std::string_view other_name,
                       std::string_view what);

/// Per-channel parameter arrays as one float32 [rows, channels] tensor on `device`:
/// staged in pinned memory and copied without blocking the host (the copy is
/// ordered on the current stream before the kernel that reads it).
at::Tensor device_rows(std::initializer_list<const std::vector<float>*> rows, const at::Device& device);

/// float32, contiguous view or copy of x.
at::Tensor float_contiguous(const at::Tensor& x);

/// Resolves `axis` for x (negative from the end) and checks that `count`
/// parameters match: 1 per tensor, x.size(axis) per channel.
kernels::cpu::ChannelLayout channel_layout(const at::Tensor& x, std::optional<int64_t> axis, int64_t count,
                                           std::string_view what);

/// Runs fn(begin, end) over [0, n) in parallel chunks of kGrainSize.
template <typename Fn>
void parallel_chunks(int64_t n, const Fn& fn);

/// Uninitialised contiguous float32 CPU tensor shaped like `input` for a forward
/// kernel's output: from the output pool (qsim/quant/output_pool.hpp, no fresh pages
/// in steady state) unless autograd records the op (grad mode on and `input`
/// requires grad) or an UnpooledScope is open; then from LibTorch's allocator.
at::Tensor empty_output(const at::Tensor& input);
/// Same for a backward kernel's gradient. Pooled only from kFreshMappingBytes up:
/// glibc maps every allocation that large anew (its mmap threshold stops growing
/// at 32 MiB), so the pool saves a zeroing of every page; below that, glibc's heap
/// already reuses freed gradients, without the pool's 2 MiB rounding or its cache
/// adding to training's peak memory.
at::Tensor empty_gradient(at::IntArrayRef sizes);
inline constexpr std::size_t kFreshMappingBytes = std::size_t{32} << 20;

/// While one lives on a thread, empty_output does not pool: the forwards and
/// backwards of autograd functions run with grad mode off, but belong to training.
class UnpooledScope {
 public:
  UnpooledScope();
  ~UnpooledScope();
  UnpooledScope(const UnpooledScope&) = delete;
  UnpooledScope& operator=(const UnpooledScope&) = delete;

 private:
  bool previous_;
};

/// Casts a float32 result back to the input's dtype (no-op for float32).
at::Tensor to_input_dtype(const at::Tensor& result, const at::Tensor& input);

}  // namespace qsim::quant::detail

#include <ATen/Parallel.h>

namespace qsim::quant::detail {

template <typename Fn>
void parallel_chunks(int64_t n, const Fn& fn) {
  if (n <= 0) return;
  at::parallel_for(0, n, kGrainSize, [&](int64_t begin, int64_t end) { fn(begin, end); });
}

}  // namespace qsim::quant::detail
