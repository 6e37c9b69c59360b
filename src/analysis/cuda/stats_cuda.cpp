#include "analysis/cuda/stats_cuda.hpp"

#include <cstring>

#include <ATen/ATen.h>

#include "kernels/cuda/histogram.cuh"
#include "kernels/cuda/minmax.cuh"
#include "quant/cuda/device_types.hpp"

namespace qsim::analysis::detail::cuda {
namespace {

at::TensorOptions bytes_on(const FloatBatch& batch) { return at::TensorOptions().dtype(at::kByte).device(batch.device); }

cudaStream_t stream_of(const FloatBatch& batch) {
  return c10::cuda::getCurrentCUDAStream(batch.device.index()).stream();
}

// Runs bin(counts, finite) on the device, then brings the counts and the
// finiteness flag back (one synchronising copy each: the analyzer needs them).
template <typename Bin>
bool device_histogram(const FloatBatch& batch, BucketCounts& counts, Bin&& bin) {
  const at::Tensor device_counts = at::zeros({kBuckets}, at::TensorOptions().dtype(at::kLong).device(batch.device));
  const at::Tensor finite = at::empty({1}, at::TensorOptions().dtype(at::kBool).device(batch.device));
  bin(device_counts.data_ptr<int64_t>(), finite.data_ptr<bool>());
  const at::Tensor host_counts = device_counts.to(at::kCPU);
  std::memcpy(counts.data(), host_counts.data_ptr<int64_t>(), sizeof(int64_t) * kBuckets);
  return finite.to(at::kCPU).data_ptr<bool>()[0];
}

}  // namespace

kernels::cpu::MinMax minmax(const FloatBatch& batch) {
  const c10::cuda::CUDAGuard guard(batch.device);
  // The result first (its alignment is the allocation's), the kernel's scratch after it.
  constexpr int64_t kResultBytes = 256;
  static_assert(sizeof(kernels::cpu::MinMax) <= kResultBytes);
  const int64_t scratch = kernels::cuda::minmax_workspace_bytes();
  const at::Tensor block = at::empty({kResultBytes + scratch}, bytes_on(batch));
  auto* result = static_cast<kernels::cpu::MinMax*>(block.data_ptr());
  kernels::cuda::minmax(batch.data, batch.size, result, static_cast<char*>(block.data_ptr()) + kResultBytes, scratch,
                        stream_of(batch));
  const at::Tensor host = block.narrow(0, 0, sizeof(kernels::cpu::MinMax)).to(at::kCPU);
  kernels::cpu::MinMax out{};
  std::memcpy(&out, host.data_ptr(), sizeof(out));
  return out;
}

bool histogram_rounded(const FloatBatch& batch, float width, float offset, BucketCounts& counts) {
  const c10::cuda::CUDAGuard guard(batch.device);
  return device_histogram(batch, counts, [&](int64_t* device_counts, bool* finite) {
    kernels::cuda::histogram_rounded(batch.data, batch.size, width, offset, device_counts, kBuckets, finite,
                                     stream_of(batch));
  });
}

bool histogram_truncated(const FloatBatch& batch, float min, float width, BucketCounts& counts) {
  const c10::cuda::CUDAGuard guard(batch.device);
  return device_histogram(batch, counts, [&](int64_t* device_counts, bool* finite) {
    kernels::cuda::histogram_truncated(batch.data, batch.size, min, width, device_counts, kBuckets, finite,
                                       stream_of(batch));
  });
}

}  // namespace qsim::analysis::detail::cuda
