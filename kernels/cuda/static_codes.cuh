#pragma once

// Static-grid codes (quantize only, semantics §2 "quantize-only"): y = q − shift[c]
// as float, no integer clamp (out-of-grid codes −1 / N+1 show). Bit-exact with
// kernels::cpu::static_codes. F16/BF16 inputs are computed in float; codes are
// always written as float (a BF16 cannot hold every 16-bit code). Async on `stream`.

#include <cstdint>

#include "kernels/cuda/types.cuh"

namespace qsim::kernels::cuda {

void static_codes(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                  const float* shift, cudaStream_t stream);
void static_codes(const __half* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                  const float* shift, cudaStream_t stream);
void static_codes(const __nv_bfloat16* x, float* y, int64_t begin, int64_t end, ChannelLayout layout,
                  StaticGrid grid, const float* shift, cudaStream_t stream);

}  // namespace qsim::kernels::cuda
