#pragma once

// Shared by the CUDA glue of the quant and analysis layers: the dtype switch from
// ATen's float types to the CUDA kernels' (float, __half, __nv_bfloat16), typed
// data pointers, and the stream of a tensor's device. Includes CUDA and c10/cuda
// headers: only the glue's .cpp files include it.

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <ATen/core/Tensor.h>

#include "detail/check.hpp"

namespace qsim::cuda_glue {

template <typename T>
struct DeviceType {
  using type = T;
};

/// Calls fn(DeviceType<T>{}) with T the CUDA type of x's dtype; ValueError for
/// any other dtype (the entry points have already refused those).
template <typename Fn>
void with_device_type(const at::Tensor& x, const char* what, Fn&& fn) {
  switch (x.scalar_type()) {
    case at::kFloat: fn(DeviceType<float>{}); return;
    case at::kHalf: fn(DeviceType<__half>{}); return;
    case at::kBFloat16: fn(DeviceType<__nv_bfloat16>{}); return;
    default: break;
  }
  ::qsim::detail::raise<ValueError>("{} (cuda): dtype must be float32, float16 or bfloat16, got {}", what,
                                    c10::toString(x.scalar_type()));
}

/// x's data as T (ATen's Half/BFloat16 share the bit layout of __half/__nv_bfloat16).
template <typename T>
T* data_as(const at::Tensor& x) {
  return static_cast<T*>(x.data_ptr());
}

/// Row r of a float32 [rows, channels] parameter tensor.
inline const float* grid_row(const at::Tensor& grid, int64_t r) { return grid.data_ptr<float>() + r * grid.size(1); }

/// LibTorch's current stream on x's device: our kernels queue behind (and before)
/// ATen's own work on that stream, exactly like an ATen op.
inline cudaStream_t stream_of(const at::Tensor& x) {
  return c10::cuda::getCurrentCUDAStream(x.device().index()).stream();
}

}  // namespace qsim::cuda_glue
