#include "kernels/cuda/histogram.cuh"

#include <cfloat>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/fake_quant_scalar.hpp"

namespace qsim::kernels::cuda {
namespace {

using detail::kPack;
using detail::kThreads;

// Slots: bucket b is slot b + 1; slots 0 and buckets + 1 collect dropped values.
// Both binnings are kernels/cpu/histogram.cpp's scalar code, operation for operation.

__device__ __forceinline__ bool is_finite(float v) { return fabsf(v) <= FLT_MAX; }

struct RoundedSlot {
  float width, offset, top;
  // t clamped to [−1, buckets] before the conversion: NaN becomes −1 (dropped).
  __device__ int64_t operator()(float v) const {
    float t = v / width - offset;
    t = t >= -1.0f ? t : -1.0f;
    t = t <= top ? t : top;
    return static_cast<int64_t>(round_away(t)) + 1;
  }
};

struct TruncatedSlot {
  float min, width, last;
  __device__ int64_t operator()(float v) const {
    if (!is_finite(v)) return 0;
    if (width == 0.0f) return 1;
    float t = (v - min) / width;
    t = t >= 0.0f ? t : 0.0f;
    t = t <= last ? t : last;
    return static_cast<int64_t>(t) + 1;
  }
};

/// Largest bucket count binned in shared memory (48 kB of unsigned counters).
constexpr int64_t kSharedBuckets = 48 * 1024 / sizeof(unsigned) - 2;

template <bool kShared>
__device__ __forceinline__ void add(unsigned* local, int64_t* counts, int64_t slot, int64_t buckets) {
  if (kShared) {
    atomicAdd(&local[slot], 1u);
  } else if (slot >= 1 && slot <= buckets) {
    atomicAdd(reinterpret_cast<unsigned long long*>(&counts[slot - 1]), 1ull);
  }
}

template <typename T, typename Slot, bool kShared>
__global__ void __launch_bounds__(kThreads) histogram_kernel(const T* x, int64_t n, int64_t head, Slot slot_of,
                                                             int64_t* counts, int64_t buckets, bool* finite) {
  extern __shared__ unsigned local[];
  if (kShared) {
    for (int64_t s = threadIdx.x; s < buckets + 2; s += kThreads) local[s] = 0;
    __syncthreads();
  }
  bool all_finite = true;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t packs = (n - head) / kPack<T>;
  const auto* vx = reinterpret_cast<const detail::Pack<T>*>(x + head);
  for (int64_t k = first; k < packs; k += stride) {
    const detail::Pack<T> p = vx[k];
#pragma unroll
    for (int j = 0; j < kPack<T>; ++j) {
      const float v = detail::to_float(p.v[j]);
      all_finite = all_finite && is_finite(v);
      add<kShared>(local, counts, slot_of(v), buckets);
    }
  }
  const int64_t vec_end = head + packs * kPack<T>;
  for (int64_t k = first; k < head + (n - vec_end); k += stride) {
    const float v = detail::to_float(x[k < head ? k : vec_end + (k - head)]);
    all_finite = all_finite && is_finite(v);
    add<kShared>(local, counts, slot_of(v), buckets);
  }
  if (!all_finite) *finite = false;
  if (kShared) {
    __syncthreads();
    for (int64_t b = threadIdx.x; b < buckets; b += kThreads) {
      const unsigned c = local[b + 1];
      if (c != 0) atomicAdd(reinterpret_cast<unsigned long long*>(&counts[b]), static_cast<unsigned long long>(c));
    }
  }
}

template <typename T, typename Slot>
void run(const T* x, int64_t n, Slot slot_of, int64_t* counts, int64_t buckets, bool* finite, cudaStream_t stream) {
  static_assert(sizeof(unsigned long long) == sizeof(int64_t));
  QSIM_CUDA_CHECK(cudaMemsetAsync(finite, 1, sizeof(bool), stream));  // true
  if (n <= 0) return;
  int64_t head = detail::head_to_alignment(x);
  if (head < 0 || head > n) head = n;
  // Each block's shared counters must be flushed, so small inputs get few blocks.
  const int64_t blocks = detail::blocks_for(((n - head) / kPack<T> + 1 + 3) / 4);
  if (buckets <= kSharedBuckets) {
    const auto shared = static_cast<size_t>(buckets + 2) * sizeof(unsigned);
    histogram_kernel<T, Slot, true><<<static_cast<unsigned>(blocks), kThreads, shared, stream>>>(
        x, n, head, slot_of, counts, buckets, finite);
  } else {
    histogram_kernel<T, Slot, false><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        x, n, head, slot_of, counts, buckets, finite);
  }
  QSIM_CUDA_CHECK(cudaGetLastError());
}

template <typename T>
void rounded(const T* x, int64_t n, float width, float offset, int64_t* counts, int64_t buckets, bool* finite,
             cudaStream_t stream) {
  run(x, n, RoundedSlot{width, offset, static_cast<float>(buckets)}, counts, buckets, finite, stream);
}

template <typename T>
void truncated(const T* x, int64_t n, float min, float width, int64_t* counts, int64_t buckets, bool* finite,
               cudaStream_t stream) {
  run(x, n, TruncatedSlot{min, width, static_cast<float>(buckets - 1)}, counts, buckets, finite, stream);
}

}  // namespace

void histogram_rounded(const float* x, int64_t n, float width, float offset, int64_t* counts, int64_t buckets,
                       bool* finite, cudaStream_t stream) {
  rounded(x, n, width, offset, counts, buckets, finite, stream);
}
void histogram_rounded(const __half* x, int64_t n, float width, float offset, int64_t* counts, int64_t buckets,
                       bool* finite, cudaStream_t stream) {
  rounded(x, n, width, offset, counts, buckets, finite, stream);
}
void histogram_rounded(const __nv_bfloat16* x, int64_t n, float width, float offset, int64_t* counts,
                       int64_t buckets, bool* finite, cudaStream_t stream) {
  rounded(x, n, width, offset, counts, buckets, finite, stream);
}

void histogram_truncated(const float* x, int64_t n, float min, float width, int64_t* counts, int64_t buckets,
                         bool* finite, cudaStream_t stream) {
  truncated(x, n, min, width, counts, buckets, finite, stream);
}
void histogram_truncated(const __half* x, int64_t n, float min, float width, int64_t* counts, int64_t buckets,
                         bool* finite, cudaStream_t stream) {
  truncated(x, n, min, width, counts, buckets, finite, stream);
}
void histogram_truncated(const __nv_bfloat16* x, int64_t n, float min, float width, int64_t* counts,
                         int64_t buckets, bool* finite, cudaStream_t stream) {
  truncated(x, n, min, width, counts, buckets, finite, stream);
}

}  // namespace qsim::kernels::cuda
