#include "quant/cuda/fake_quant_cuda.hpp"

#include <ATen/ATen.h>

#include "kernels/cuda/learned_backward.cuh"
#include "kernels/cuda/learned_forward.cuh"
#include "kernels/cuda/static_codes.cuh"
#include "kernels/cuda/static_forward.cuh"
#include "kernels/cuda/static_ste_backward.cuh"
#include "quant/cuda/device_types.hpp"

namespace qsim::quant::detail::cuda {
namespace {

using cuda_glue::data_as;
using cuda_glue::grid_row;
using cuda_glue::stream_of;
using cuda_glue::with_device_type;

kernels::cpu::StaticGrid static_grid(const at::Tensor& grid) {
  return {grid_row(grid, 0), grid_row(grid, 1), grid_row(grid, 2), grid_row(grid, 3)};
}

kernels::cpu::LearnedGrid learned_grid(const DeviceLearnedGrid& g) {
  kernels::cpu::LearnedGrid grid;
  grid.delta = g.delta.data_ptr<float>();
  grid.inv_delta = g.inv_delta.data_ptr<float>();
  grid.offset = g.offset.data_ptr<float>();
  grid.steps = g.steps;
  grid.multiply = g.multiply;
  return grid;
}

}  // namespace

void static_forward(const at::Tensor& x, const at::Tensor& out, ChannelLayout layout, const at::Tensor& grid) {
  const c10::cuda::CUDAGuard guard(x.device());
  with_device_type(x, "fake_quantize_static", [&](auto type) {
    using T = typename decltype(type)::type;
    kernels::cuda::static_forward(data_as<const T>(x), data_as<T>(out), 0, x.numel(), layout, static_grid(grid),
                                  stream_of(x));
  });
}

void static_codes(const at::Tensor& x, const at::Tensor& out, ChannelLayout layout, const at::Tensor& grid) {
  const c10::cuda::CUDAGuard guard(x.device());
  with_device_type(x, "quantize_static", [&](auto type) {
    using T = typename decltype(type)::type;
    kernels::cuda::static_codes(data_as<const T>(x), out.data_ptr<float>(), 0, x.numel(), layout, static_grid(grid),
                                grid_row(grid, 4), stream_of(x));
  });
}

void static_ste_backward(const at::Tensor& y, const at::Tensor& g, const at::Tensor& gi, ChannelLayout layout,
                         const at::Tensor& bounds) {
  const c10::cuda::CUDAGuard guard(y.device());
  with_device_type(y, "fake_quantize_static_backward", [&](auto type) {
    using T = typename decltype(type)::type;
    kernels::cuda::static_ste_backward(data_as<const T>(y), data_as<const T>(g), data_as<T>(gi), 0, y.numel(),
                                       layout, grid_row(bounds, 0), grid_row(bounds, 1), stream_of(y));
  });
}

void learned_forward(const at::Tensor& x, const at::Tensor& out, ChannelLayout layout,
                     const DeviceLearnedGrid& grid) {
  const c10::cuda::CUDAGuard guard(x.device());
  with_device_type(x, "fake_quantize_learned", [&](auto type) {
    using T = typename decltype(type)::type;
    kernels::cuda::learned_forward(data_as<const T>(x), data_as<T>(out), 0, x.numel(), layout, learned_grid(grid),
                                   stream_of(x));
  });
}

void learned_backward(const at::Tensor& x, const at::Tensor& g, const at::Tensor& gi, ChannelLayout layout,
                      const DeviceLearnedGrid& grid, bool offset_in_sum, const at::Tensor& sum_s,
                      const at::Tensor& sum_z) {
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t bytes = kernels::cuda::learned_backward_workspace_bytes(layout);
  // From the caching allocator on this stream: reused in stream order, never a cudaMalloc in steady state.
  const at::Tensor workspace = at::empty({bytes}, x.options().dtype(at::kByte));
  with_device_type(x, "fake_quantize_learned_backward", [&](auto type) {
    using T = typename decltype(type)::type;
    kernels::cuda::learned_backward(data_as<const T>(x), data_as<const T>(g), data_as<T>(gi), 0, x.numel(), layout,
                                    learned_grid(grid), offset_in_sum, sum_s.data_ptr<double>(),
                                    sum_z.data_ptr<double>(), workspace.data_ptr(), bytes, stream_of(x));
  });
}

}  // namespace qsim::quant::detail::cuda
