#include "kernels/cuda/minmax.cuh"

#include <limits>

#include "detail/check.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device_utils.cuh"

namespace qsim::kernels::cuda {
namespace {

using detail::kMaxBlocks;
using detail::kPack;
using detail::kThreads;

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Extremes {
  float min;
  float max;
  bool nan;
};

// The CPU's comparisons exactly: v < mn ? v : mn skips NaN.
__device__ __forceinline__ void take(Extremes& e, float v) {
  e.min = v < e.min ? v : e.min;
  e.max = v > e.max ? v : e.max;
  e.nan = e.nan || v != v;
}

__device__ __forceinline__ void combine(Extremes& e, const Extremes& o) {
  e.min = o.min < e.min ? o.min : e.min;
  e.max = o.max > e.max ? o.max : e.max;
  e.nan = e.nan || o.nan;
}

__device__ Extremes block_extremes(Extremes e, Extremes* scratch) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    Extremes o;
    o.min = __shfl_down_sync(0xffffffffu, e.min, offset);
    o.max = __shfl_down_sync(0xffffffffu, e.max, offset);
    o.nan = __shfl_down_sync(0xffffffffu, static_cast<int>(e.nan), offset) != 0;
    combine(e, o);
  }
  __syncthreads();
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = e;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kThreads / 32; ++w) combine(e, scratch[w]);
  }
  return e;  // thread 0
}

template <typename T>
__global__ void __launch_bounds__(kThreads) minmax_kernel(const T* x, int64_t n, int64_t head, MinMax* result,
                                                          Extremes* partials, unsigned* counter) {
  __shared__ Extremes scratch[kThreads / 32];
  __shared__ bool last;
  Extremes e{kInf, -kInf, false};
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t packs = (n - head) / kPack<T>;
  const auto* vx = reinterpret_cast<const detail::Pack<T>*>(x + head);
  for (int64_t k = first; k < packs; k += stride) {
    const detail::Pack<T> p = vx[k];
#pragma unroll
    for (int j = 0; j < kPack<T>; ++j) take(e, detail::to_float(p.v[j]));
  }
  const int64_t vec_end = head + packs * kPack<T>;
  for (int64_t k = first; k < head + (n - vec_end); k += stride) {
    take(e, detail::to_float(x[k < head ? k : vec_end + (k - head)]));
  }
  e = block_extremes(e, scratch);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = e;
    __threadfence();
    last = atomicAdd(counter, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!last) return;
  Extremes all{kInf, -kInf, false};
  for (unsigned b = threadIdx.x; b < gridDim.x; b += kThreads) {
    Extremes o;
    o.min = __ldcg(&partials[b].min);
    o.max = __ldcg(&partials[b].max);
    o.nan = *reinterpret_cast<volatile const bool*>(&partials[b].nan);
    combine(all, o);
  }
  all = block_extremes(all, scratch);
  if (threadIdx.x == 0) {
    *result = MinMax{all.min, all.max, !all.nan && all.min != -kInf && all.max != kInf};
  }
}

constexpr int64_t kCounterBytes = 16;

template <typename T>
void run(const T* x, int64_t n, MinMax* result, void* workspace, int64_t workspace_bytes, cudaStream_t stream) {
  QSIM_CHECK(workspace != nullptr && workspace_bytes >= minmax_workspace_bytes(), Error,
             "minmax (cuda): workspace of {} bytes, needs {}", workspace_bytes, minmax_workspace_bytes());
  int64_t head = detail::head_to_alignment(x);
  if (head < 0 || head > n) head = n;
  const int64_t blocks = detail::blocks_for(n > 0 ? (n - head) / kPack<T> + 1 : 1);
  auto* counter = static_cast<unsigned*>(workspace);
  auto* partials = reinterpret_cast<Extremes*>(static_cast<char*>(workspace) + kCounterBytes);
  QSIM_CUDA_CHECK(cudaMemsetAsync(counter, 0, sizeof(unsigned), stream));
  minmax_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, n, head, result, partials, counter);
  QSIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

int64_t minmax_workspace_bytes() { return kCounterBytes + kMaxBlocks * static_cast<int64_t>(sizeof(Extremes)); }

void minmax(const float* x, int64_t n, MinMax* result, void* workspace, int64_t workspace_bytes,
            cudaStream_t stream) {
  run(x, n, result, workspace, workspace_bytes, stream);
}
void minmax(const __half* x, int64_t n, MinMax* result, void* workspace, int64_t workspace_bytes,
            cudaStream_t stream) {
  run(x, n, result, workspace, workspace_bytes, stream);
}
void minmax(const __nv_bfloat16* x, int64_t n, MinMax* result, void* workspace, int64_t workspace_bytes,
            cudaStream_t stream) {
  run(x, n, result, workspace, workspace_bytes, stream);
}

}  // namespace qsim::kernels::cuda
