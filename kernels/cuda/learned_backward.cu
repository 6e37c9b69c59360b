#include "kernels/cuda/learned_backward.cuh"

#include "detail/check.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/fake_quant_scalar.hpp"

namespace qsim::kernels::cuda {
namespace {

using detail::kMaxBlocks;
using detail::kPack;
using detail::kThreads;

/// Blocks per channel: the workspace holds this many partials per channel.
int64_t max_blocks_per_channel(int64_t channels) {
  const int64_t per_channel = kMaxBlocks / channels;
  return per_channel < 1 ? 1 : per_channel;
}

struct Sums {
  double s = 0.0;
  double z = 0.0;
};

struct ChannelParams {
  float delta, inv_delta, offset, sum_offset;
};

// One element, in the CPU's exact expression order (kernels/cpu/fake_quant_cpu.cpp).
template <typename T>
__device__ __forceinline__ void backward_one(const T* x, const T* g, T* gi, int64_t i, const ChannelParams& p,
                                             const LearnedGrid& grid, Sums& acc) {
  const float gv = detail::to_float(g[i]);
  const LearnedElement e =
      learned_element(detail::to_float(x[i]), p.delta, p.inv_delta, p.offset, grid.steps, grid.multiply);
  gi[i] = detail::from_float<T>(gv * e.k);
  acc.s += (static_cast<double>(e.q + p.sum_offset) - static_cast<double>(e.k) * e.t) * gv;
  acc.z += static_cast<double>((1.0f - e.k) * gv);
}

template <typename T>
__device__ __forceinline__ void backward_pack(const T* x, const T* g, T* gi, int64_t i, const ChannelParams& p,
                                              const LearnedGrid& grid, Sums& acc) {
  using P = detail::Pack<T>;
  const P vx = *reinterpret_cast<const P*>(x + i);
  const P vg = *reinterpret_cast<const P*>(g + i);
  P vo;
#pragma unroll
  for (int j = 0; j < kPack<T>; ++j) {
    const float gv = detail::to_float(vg.v[j]);
    const LearnedElement e =
        learned_element(detail::to_float(vx.v[j]), p.delta, p.inv_delta, p.offset, grid.steps, grid.multiply);
    vo.v[j] = detail::from_float<T>(gv * e.k);
    acc.s += (static_cast<double>(e.q + p.sum_offset) - static_cast<double>(e.k) * e.t) * gv;
    acc.z += static_cast<double>((1.0f - e.k) * gv);
  }
  *reinterpret_cast<P*>(gi + i) = vo;
}

struct Shape {
  int64_t begin;        ///< first element
  int64_t head;         ///< per-tensor: scalar elements before the first pack
  int64_t count;        ///< elements per channel in [begin, end)
  int64_t channels;
  int64_t inner;
  bool vectorized;      ///< per-channel: every row starts on a pack boundary
};

// Element index of the j-th element of channel c (per-channel layout).
__device__ __forceinline__ int64_t channel_element(const Shape& s, int64_t c, int64_t j) {
  return s.begin + (j / s.inner) * s.channels * s.inner + c * s.inner + j % s.inner;
}

// Per-tensor share of block b: a scalar head, packs, a scalar tail.
template <typename T>
__device__ void tensor_share(const T* x, const T* g, T* gi, const Shape& s, const ChannelParams& p,
                             const LearnedGrid& grid, Sums& acc) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t packs = (s.count - s.head) / kPack<T>;
  const int64_t vec_begin = s.begin + s.head;
  for (int64_t k = first; k < packs; k += stride) backward_pack(x, g, gi, vec_begin + k * kPack<T>, p, grid, acc);
  const int64_t vec_end = vec_begin + packs * kPack<T>;
  const int64_t rest = s.head + (s.begin + s.count - vec_end);
  for (int64_t k = first; k < rest; k += stride) {
    backward_one(x, g, gi, k < s.head ? s.begin + k : vec_end + (k - s.head), p, grid, acc);
  }
}

// Per-channel share of block b for channel c: packs never straddle a row.
template <typename T>
__device__ void channel_share(const T* x, const T* g, T* gi, const Shape& s, int64_t c, const ChannelParams& p,
                              const LearnedGrid& grid, Sums& acc) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (s.vectorized) {
    for (int64_t k = first; k < s.count / kPack<T>; k += stride) {
      backward_pack(x, g, gi, channel_element(s, c, k * kPack<T>), p, grid, acc);
    }
  } else {
    for (int64_t j = first; j < s.count; j += stride) backward_one(x, g, gi, channel_element(s, c, j), p, grid, acc);
  }
}

// blockIdx.y walks channels; each block writes one partial per channel, and the
// block that arrives last adds the partials, in block order, to sum_s / sum_z.
template <typename T, bool kPerChannel>
__global__ void __launch_bounds__(kThreads) learned_backward_kernel(const T* x, const T* g, T* gi, Shape s,
                                                                    LearnedGrid grid, bool offset_in_sum,
                                                                    double* sum_s, double* sum_z, double* partials,
                                                                    unsigned* counters) {
  __shared__ double scratch[kThreads / 32];
  __shared__ bool last;
  for (int64_t c = blockIdx.y; c < s.channels; c += gridDim.y) {
    const ChannelParams p{grid.delta[c], grid.inv_delta[c], grid.offset[c], offset_in_sum ? grid.offset[c] : 0.0f};
    Sums acc;
    if (kPerChannel) {
      channel_share(x, g, gi, s, c, p, grid, acc);
    } else {
      tensor_share(x, g, gi, s, p, grid, acc);
    }
    const double block_s = detail::block_sum(acc.s, scratch);
    const double block_z = detail::block_sum(acc.z, scratch);
    double* channel_partials = partials + 2 * c * gridDim.x;
    if (threadIdx.x == 0) {
      channel_partials[2 * blockIdx.x] = block_s;
      channel_partials[2 * blockIdx.x + 1] = block_z;
      __threadfence();  // partials visible device-wide before the count says so
      last = atomicAdd(&counters[c], 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (last) {
      double total_s = 0.0;
      double total_z = 0.0;
      for (unsigned b = threadIdx.x; b < gridDim.x; b += kThreads) {
        total_s += __ldcg(&channel_partials[2 * b]);
        total_z += __ldcg(&channel_partials[2 * b + 1]);
      }
      total_s = detail::block_sum(total_s, scratch);
      total_z = detail::block_sum(total_z, scratch);
      if (threadIdx.x == 0) {
        sum_s[c] += total_s;
        sum_z[c] += total_z;
      }
    }
    __syncthreads();  // `last` and scratch are reused by the next channel
  }
}

template <typename T>
void run(const T* x, const T* g, T* gi, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid,
         bool offset_in_sum, double* sum_s, double* sum_z, void* workspace, int64_t workspace_bytes,
         cudaStream_t stream) {
  if (end <= begin) return;
  const int64_t channels = layout.channels;
  const int64_t needed = learned_backward_workspace_bytes(layout);
  QSIM_CHECK(workspace != nullptr && workspace_bytes >= needed, Error,
             "learned_backward (cuda): workspace of {} bytes, needs {}", workspace_bytes, needed);
  Shape s{begin, 0, end - begin, channels, layout.inner, false};
  const bool per_channel = channels > 1;
  constexpr int N = kPack<T>;
  if (per_channel) {
    const int64_t slice = channels * layout.inner;
    QSIM_CHECK(begin % slice == 0 && end % slice == 0, Error,
               "learned_backward (cuda): per-channel range [{}, {}) must cover whole slices of {} elements", begin,
               end, slice);
    s.count = (end - begin) / channels;
    s.vectorized = layout.inner % N == 0 && detail::is_aligned16(x + begin) && detail::is_aligned16(g + begin) &&
                   detail::is_aligned16(gi + begin);
  } else {
    int64_t head = detail::head_to_alignment(x + begin);
    const bool ok = head >= 0 && head < s.count && detail::is_aligned16(g + begin + head) &&
                    detail::is_aligned16(gi + begin + head);
    s.head = ok ? head : s.count;
  }
  const int64_t work = per_channel && !s.vectorized ? s.count : (s.count + N - 1) / N;
  int64_t blocks = detail::blocks_for(work);
  const int64_t cap = max_blocks_per_channel(channels);
  blocks = blocks < cap ? blocks : cap;
  const int64_t grid_y = channels < 65535 ? channels : 65535;

  auto* counters = static_cast<unsigned*>(workspace);
  const int64_t counter_bytes = (channels * static_cast<int64_t>(sizeof(unsigned)) + 15) / 16 * 16;
  auto* partials = reinterpret_cast<double*>(static_cast<char*>(workspace) + counter_bytes);
  QSIM_CUDA_CHECK(cudaMemsetAsync(counters, 0, static_cast<size_t>(channels) * sizeof(unsigned), stream));
  const dim3 blocks_grid(static_cast<unsigned>(blocks), static_cast<unsigned>(grid_y));
  if (per_channel) {
    learned_backward_kernel<T, true><<<blocks_grid, kThreads, 0, stream>>>(x, g, gi, s, grid, offset_in_sum, sum_s,
                                                                           sum_z, partials, counters);
  } else {
    learned_backward_kernel<T, false><<<blocks_grid, kThreads, 0, stream>>>(x, g, gi, s, grid, offset_in_sum, sum_s,
                                                                            sum_z, partials, counters);
  }
  QSIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

int64_t learned_backward_workspace_bytes(ChannelLayout layout) {
  const int64_t channels = layout.channels;
  const int64_t counter_bytes = (channels * static_cast<int64_t>(sizeof(unsigned)) + 15) / 16 * 16;
  return counter_bytes + channels * max_blocks_per_channel(channels) * 2 * static_cast<int64_t>(sizeof(double));
}

void learned_backward(const float* x, const float* g, float* gi, int64_t begin, int64_t end, ChannelLayout layout,
                      LearnedGrid grid, bool offset_in_sum, double* sum_s, double* sum_z, void* workspace,
                      int64_t workspace_bytes, cudaStream_t stream) {
  run(x, g, gi, begin, end, layout, grid, offset_in_sum, sum_s, sum_z, workspace, workspace_bytes, stream);
}
void learned_backward(const __half* x, const __half* g, __half* gi, int64_t begin, int64_t end,
                      ChannelLayout layout, LearnedGrid grid, bool offset_in_sum, double* sum_s, double* sum_z,
                      void* workspace, int64_t workspace_bytes, cudaStream_t stream) {
  run(x, g, gi, begin, end, layout, grid, offset_in_sum, sum_s, sum_z, workspace, workspace_bytes, stream);
}
void learned_backward(const __nv_bfloat16* x, const __nv_bfloat16* g, __nv_bfloat16* gi, int64_t begin,
                      int64_t end, ChannelLayout layout, LearnedGrid grid, bool offset_in_sum, double* sum_s,
                      double* sum_z, void* workspace, int64_t workspace_bytes, cudaStream_t stream) {
  run(x, g, gi, begin, end, layout, grid, offset_in_sum, sum_s, sum_z, workspace, workspace_bytes, stream);
}

}  // namespace qsim::kernels::cuda
