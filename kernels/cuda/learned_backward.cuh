#pragma once

// Range-learning backward (semantics §5.4) on the GPU, in ONE kernel: writes
// gi = g·k and adds, per channel c, in double,
//   sum_s[c] += Σ (q + (offset_in_sum ? o : 0) − k·t)·g,   sum_z[c] += Σ (1 − k)·g
// — the same contract as kernels::cpu::learned_backward, which the quant layer
// turns into dL/dmin, dL/dmax for each mode.
//
// Each block reduces its share with warp shuffles (double partials), writes one
// partial per channel into `workspace`, and the last block of a channel (an atomic
// counter) adds the partials in block order — so the sums are deterministic, but
// their order differs from the CPU's: they agree to ~1e-6 relative, not bitwise.
// gi is bit-exact. No host synchronisation, no allocation, no full-size temporary.
//
// `sum_s`, `sum_z` and the grid's arrays are device arrays; `workspace` is device
// memory of at least learned_backward_workspace_bytes(layout) bytes whose content
// need not be initialised (its counters are cleared on `stream`). Per-tensor
// (channels == 1) accepts any [begin, end); per-channel needs begin and end on
// whole [channels, inner] slices. F16/BF16 computed in float. Async on `stream`.

#include <cstdint>

#include "kernels/cuda/types.cuh"

namespace qsim::kernels::cuda {

/// Bytes of device workspace learned_backward needs for `layout` (independent of
/// the element count; a few kB per-tensor).
int64_t learned_backward_workspace_bytes(ChannelLayout layout);

void learned_backward(const float* x, const float* g, float* gi, int64_t begin, int64_t end, ChannelLayout layout,
                      LearnedGrid grid, bool offset_in_sum, double* sum_s, double* sum_z, void* workspace,
                      int64_t workspace_bytes, cudaStream_t stream);
void learned_backward(const __half* x, const __half* g, __half* gi, int64_t begin, int64_t end,
                      ChannelLayout layout, LearnedGrid grid, bool offset_in_sum, double* sum_s, double* sum_z,
                      void* workspace, int64_t workspace_bytes, cudaStream_t stream);
void learned_backward(const __nv_bfloat16* x, const __nv_bfloat16* g, __nv_bfloat16* gi, int64_t begin,
                      int64_t end, ChannelLayout layout, LearnedGrid grid, bool offset_in_sum, double* sum_s,
                      double* sum_z, void* workspace, int64_t workspace_bytes, cudaStream_t stream);

}  // namespace qsim::kernels::cuda
