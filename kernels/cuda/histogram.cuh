#pragma once

// Histogram binning for the encoding analyzers (quantization-semantics.md §3.2,
// §3.6), mirroring kernels::cpu::histogram_rounded / histogram_truncated: the same
// float operations in the same order give the same bucket for every value, so the
// counts equal the CPU's exactly. Counts are *added* to the device array
// counts[0, buckets); NaN/±Inf values are dropped (rounded) or not counted
// (truncated) and make *finite (a device bool, written by every call) false.
//
// One kernel: each block bins into a shared-memory copy of the buckets (when they
// fit), then adds its non-zero buckets to `counts` with 64-bit atomics. 128-bit
// loads; F16/BF16 are binned in float. Async on `stream`.

#include <cstdint>

#include "kernels/cuda/types.cuh"

namespace qsim::kernels::cuda {

/// §3.2: bucket i = (int) round_away(x / width − offset) in float; values whose
/// index falls outside [0, buckets) are dropped.
void histogram_rounded(const float* x, int64_t n, float width, float offset, int64_t* counts, int64_t buckets,
                       bool* finite, cudaStream_t stream);
void histogram_rounded(const __half* x, int64_t n, float width, float offset, int64_t* counts, int64_t buckets,
                       bool* finite, cudaStream_t stream);
void histogram_rounded(const __nv_bfloat16* x, int64_t n, float width, float offset, int64_t* counts,
                       int64_t buckets, bool* finite, cudaStream_t stream);

/// §3.6: bucket i = min(trunc((x − min) / width), buckets − 1); values below min
/// land in bucket 0, and so does everything when width == 0.
void histogram_truncated(const float* x, int64_t n, float min, float width, int64_t* counts, int64_t buckets,
                         bool* finite, cudaStream_t stream);
void histogram_truncated(const __half* x, int64_t n, float min, float width, int64_t* counts, int64_t buckets,
                         bool* finite, cudaStream_t stream);
void histogram_truncated(const __nv_bfloat16* x, int64_t n, float min, float width, int64_t* counts,
                         int64_t buckets, bool* finite, cudaStream_t stream);

}  // namespace qsim::kernels::cuda
