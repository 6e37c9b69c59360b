#pragma once

// Batch minimum and maximum with the finiteness check (quantization-semantics.md
// §3.1, §3.2), mirroring kernels::cpu::minmax: NaN never wins a comparison and
// only clears `finite`; ±Inf shows as an extreme and clears it too. min and max
// are order independent, so the result equals the CPU's (a zero's sign may differ
// when both +0 and −0 occur: they compare equal).
//
// One kernel: 128-bit loads, block reductions, the last block (atomic counter)
// combines the per-block partials and writes *result (a device MinMax). `workspace`
// is device memory of minmax_workspace_bytes() bytes, content need not be
// initialised. F16/BF16 are compared in float. Async on `stream`.

#include <cstdint>

#include "kernels/cpu/minmax.hpp"
#include "kernels/cuda/types.cuh"

namespace qsim::kernels::cuda {

using cpu::MinMax;

/// Bytes of device workspace minmax needs (a constant, a few kB).
int64_t minmax_workspace_bytes();

void minmax(const float* x, int64_t n, MinMax* result, void* workspace, int64_t workspace_bytes,
            cudaStream_t stream);
void minmax(const __half* x, int64_t n, MinMax* result, void* workspace, int64_t workspace_bytes,
            cudaStream_t stream);
void minmax(const __nv_bfloat16* x, int64_t n, MinMax* result, void* workspace, int64_t workspace_bytes,
            cudaStream_t stream);

}  // namespace qsim::kernels::cuda
