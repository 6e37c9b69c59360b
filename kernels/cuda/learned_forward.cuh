#pragma once

// Learned-grid quantize–dequantize (semantics §5.3): y = (clamp(round_even(t) − o,
// 0, N) + o)·Δ with t = x/Δ (or x·(1/Δ) when grid.multiply). Bit-exact with
// kernels::cpu::learned_forward. The grid's arrays are device arrays (Δ, o are
// derived from the learned min/max on the GPU, no host round trip). F16/BF16
// computed in float. Async on `stream`.

#include <cstdint>

#include "kernels/cuda/types.cuh"

namespace qsim::kernels::cuda {

void learned_forward(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid,
                     cudaStream_t stream);
void learned_forward(const __half* x, __half* y, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid,
                     cudaStream_t stream);
void learned_forward(const __nv_bfloat16* x, __nv_bfloat16* y, int64_t begin, int64_t end, ChannelLayout layout,
                     LearnedGrid grid, cudaStream_t stream);

}  // namespace qsim::kernels::cuda
