#pragma once

// Device-side building blocks shared by the kernels/cuda .cu files (nvcc only, not
// part of any API): element conversion, 128-bit packs, launch geometry, block
// reductions. Every kernel computes in float whatever the element type.

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace qsim::kernels::cuda::detail {

inline constexpr int kThreads = 256;       ///< threads per block for every kernel
inline constexpr int64_t kMaxBlocks = 1024;  ///< enough to fill an H100/H200 (132 SMs × ~8 blocks)

// float <-> element conversions; narrowing rounds to nearest even, as torch's .to().
__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

/// Elements of T in one 128-bit load/store: 4 floats, 8 halves.
template <typename T>
inline constexpr int kPack = 16 / static_cast<int>(sizeof(T));

/// One 128-bit pack of T, loaded and stored with a single vector instruction.
template <typename T>
struct alignas(16) Pack {
  T v[kPack<T>];
};

/// Elements to process one by one before `p` reaches a 16-byte boundary, or -1
/// when `p` is not even aligned to its element size.
template <typename T>
inline int64_t head_to_alignment(const T* p) {
  const auto addr = reinterpret_cast<std::uintptr_t>(p);
  if (addr % sizeof(T) != 0) return -1;
  return static_cast<int64_t>((16 - addr % 16) % 16 / sizeof(T));
}

template <typename T>
inline bool is_aligned16(const T* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

/// Blocks for a grid-stride loop over `work` items of kThreads each.
inline int64_t blocks_for(int64_t work) {
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks);
}

/// Sum over the warp with shuffles; lane 0 holds the result.
__device__ __forceinline__ double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

/// Sum over the block (blockDim.x == kThreads): warp shuffles, then one warp over
/// the warp sums. Thread 0 holds the result. The order is fixed by thread index,
/// so the result does not depend on scheduling. `scratch` holds kThreads / 32.
__device__ __forceinline__ double block_sum(double v, double* scratch) {
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = threadIdx.x < kThreads / 32 ? scratch[threadIdx.x] : 0.0;
  if (warp == 0) v = warp_sum(v);
  return v;
}

}  // namespace qsim::kernels::cuda::detail
