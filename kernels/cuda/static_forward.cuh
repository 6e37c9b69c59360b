#pragma once

// Static-grid quantize–dequantize (quantization-semantics.md §2) on the GPU:
// y = Δ·(q + o), bit-exact with kernels::cpu::static_forward (same scalar code in
// kernels/fake_quant_scalar.hpp, no FMA contraction). F16/BF16 tensors are computed
// in float and rounded back to nearest even. Asynchronous on `stream`.

#include <cstdint>

#include "kernels/cuda/types.cuh"

namespace qsim::kernels::cuda {

void static_forward(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                    cudaStream_t stream);
void static_forward(const __half* x, __half* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                    cudaStream_t stream);
void static_forward(const __nv_bfloat16* x, __nv_bfloat16* y, int64_t begin, int64_t end, ChannelLayout layout,
                    StaticGrid grid, cudaStream_t stream);

}  // namespace qsim::kernels::cuda
