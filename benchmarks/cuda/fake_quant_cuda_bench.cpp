// GPU fake-quant throughput, all in one run so the GB/s compare directly:
//   BM_CudaCopy              y.copy_(x), device to device: the bandwidth ceiling
//   BM_AtenFakeQuant         at::fake_quantize_per_tensor_affine (ATen's CUDA kernel)
//   BM_QsimFakeQuant         kernels::cuda::static_forward, per-tensor (§2)
//   BM_AtenLearnableBackward at::_fake_quantize_learnable_per_tensor_affine_backward
//   BM_QsimLearnedBackward   kernels::cuda::learned_backward: grad input + the min/max
//                            gradient sums in one kernel (§5.4)
// at 16M and 256M floats. Each iteration is timed with CUDA events on the current
// stream (manual time); bytes = what the op must move (read x [and g], write one
// tensor). Targets: forward ≥ 90 % of the copy and ≥ ATen; backward ≥ 3× ATen.

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/learned_backward.cuh"
#include "kernels/cuda/static_forward.cuh"

namespace {

namespace gpu = qsim::kernels::cuda;

constexpr int64_t kSizes[] = {int64_t{1} << 24, int64_t{1} << 28};  // 16M, 256M floats

// 8-bit asymmetric grid over [−3, 5]: Δ = 8/255, o = −96.
constexpr float kLo = -3.0f, kHi = 5.0f, kDelta = 8.0f / 255.0f, kOffset = -96.0f;

at::TensorOptions cuda_floats() { return at::TensorOptions().device(at::kCUDA).dtype(at::kFloat); }

/// Times `op` once per iteration with events on the current stream.
template <typename Op>
void run_timed(benchmark::State& state, int64_t bytes_per_iteration, Op&& op) {
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  cudaEvent_t start, stop;
  QSIM_CUDA_CHECK(cudaEventCreate(&start));
  QSIM_CUDA_CHECK(cudaEventCreate(&stop));
  op();  // warm-up: first-touch, caching allocator, module load
  QSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  for (auto _ : state) {
    QSIM_CUDA_CHECK(cudaEventRecord(start, stream));
    op();
    QSIM_CUDA_CHECK(cudaEventRecord(stop, stream));
    QSIM_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    QSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(static_cast<double>(ms) / 1e3);
  }
  state.SetBytesProcessed(state.iterations() * bytes_per_iteration);
  QSIM_CUDA_CHECK(cudaEventDestroy(start));
  QSIM_CUDA_CHECK(cudaEventDestroy(stop));
}

void BM_CudaCopy(benchmark::State& state) {
  const int64_t n = state.range(0);
  const at::Tensor x = at::randn({n}, cuda_floats());
  at::Tensor y = at::empty({n}, cuda_floats());
  run_timed(state, 2 * n * 4, [&] { y.copy_(x); });
}

void BM_AtenFakeQuant(benchmark::State& state) {
  const int64_t n = state.range(0);
  const at::Tensor x = at::randn({n}, cuda_floats()) * 3.0;
  at::Tensor y;
  run_timed(state, 2 * n * 4, [&] {
    y = at::fake_quantize_per_tensor_affine(x, kDelta, static_cast<int64_t>(-kOffset), 0, 255);
  });
  benchmark::DoNotOptimize(y);
}

void BM_QsimFakeQuant(benchmark::State& state) {
  const int64_t n = state.range(0);
  const at::Tensor x = at::randn({n}, cuda_floats()) * 3.0;
  at::Tensor y = at::empty({n}, cuda_floats());
  const at::Tensor params = at::tensor({kLo, kHi, kDelta, kOffset}).to(at::kCUDA);
  const float* p = params.data_ptr<float>();
  const gpu::StaticGrid grid{p, p + 1, p + 2, p + 3};
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  run_timed(state, 2 * n * 4, [&] {
    gpu::static_forward(x.data_ptr<float>(), y.data_ptr<float>(), 0, n, {1, n}, grid, stream);
  });
}

void BM_AtenLearnableBackward(benchmark::State& state) {
  const int64_t n = state.range(0);
  const at::Tensor x = at::randn({n}, cuda_floats()) * 3.0;
  const at::Tensor g = at::randn({n}, cuda_floats());
  const at::Tensor scale = at::full({1}, kDelta, cuda_floats());
  const at::Tensor zero_point = at::full({1}, -kOffset, cuda_floats());
  std::tuple<at::Tensor, at::Tensor, at::Tensor> grads;
  run_timed(state, 3 * n * 4, [&] {
    grads = at::_fake_quantize_learnable_per_tensor_affine_backward(g, x, scale, zero_point, 0, 255, 1.0);
  });
  benchmark::DoNotOptimize(grads);
}

void BM_QsimLearnedBackward(benchmark::State& state) {
  const int64_t n = state.range(0);
  const at::Tensor x = at::randn({n}, cuda_floats()) * 3.0;
  const at::Tensor g = at::randn({n}, cuda_floats());
  at::Tensor gi = at::empty({n}, cuda_floats());
  const at::Tensor params = at::tensor({kDelta, 1.0f / kDelta, kOffset}).to(at::kCUDA);
  const float* p = params.data_ptr<float>();
  const gpu::LearnedGrid grid{p, p + 1, p + 2, 255.0f, false};
  at::Tensor sums = at::zeros({2}, cuda_floats().dtype(at::kDouble));
  const gpu::ChannelLayout layout{1, n};
  const int64_t bytes = gpu::learned_backward_workspace_bytes(layout);
  at::Tensor workspace = at::empty({bytes}, cuda_floats().dtype(at::kByte));
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  run_timed(state, 3 * n * 4, [&] {
    gpu::learned_backward(x.data_ptr<float>(), g.data_ptr<float>(), gi.data_ptr<float>(), 0, n, layout, grid, true,
                          sums.data_ptr<double>(), sums.data_ptr<double>() + 1, workspace.data_ptr(), bytes, stream);
  });
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : kSizes) b->Arg(n);
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_CudaCopy)->Apply(sizes);
BENCHMARK(BM_AtenFakeQuant)->Apply(sizes);
BENCHMARK(BM_QsimFakeQuant)->Apply(sizes);
BENCHMARK(BM_AtenLearnableBackward)->Apply(sizes);
BENCHMARK(BM_QsimLearnedBackward)->Apply(sizes);

}  // namespace
