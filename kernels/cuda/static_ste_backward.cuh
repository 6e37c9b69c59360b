#pragma once

// Static-grid straight-through gradient (semantics §2): gi = g·[min[c] ≤ y ≤ max[c]]
// with y the saved forward output. Bit-exact with kernels::cpu::static_ste_backward.
// F16/BF16 computed in float. `min`/`max` are device arrays. Async on `stream`.

#include <cstdint>

#include "kernels/cuda/types.cuh"

namespace qsim::kernels::cuda {

void static_ste_backward(const float* y, const float* g, float* gi, int64_t begin, int64_t end,
                         ChannelLayout layout, const float* min, const float* max, cudaStream_t stream);
void static_ste_backward(const __half* y, const __half* g, __half* gi, int64_t begin, int64_t end,
                         ChannelLayout layout, const float* min, const float* max, cudaStream_t stream);
void static_ste_backward(const __nv_bfloat16* y, const __nv_bfloat16* g, __nv_bfloat16* gi, int64_t begin,
                         int64_t end, ChannelLayout layout, const float* min, const float* max,
                         cudaStream_t stream);

}  // namespace qsim::kernels::cuda
