#pragma once

// The analysis layer's CUDA statistics passes (kernels/cuda minmax and the two
// 512-bucket histograms) on a FloatBatch whose values are on a CUDA device. They
// run on LibTorch's current stream with scratch from its caching allocator, then
// copy the small result (a MinMax, 512 counts) to the host: calibration needs it
// there. Defined in stats_cuda.cpp with QSIM_CUDA_ENABLED, else in
// stats_cuda_unavailable.cpp (throws; update_stats never sends CUDA values then).

#include "analysis/batch_stats.hpp"
#include "qsim/analysis/float_batch.hpp"

namespace qsim::analysis::detail::cuda {

kernels::cpu::MinMax minmax(const FloatBatch& batch);

bool histogram_rounded(const FloatBatch& batch, float width, float offset, BucketCounts& counts);

bool histogram_truncated(const FloatBatch& batch, float min, float width, BucketCounts& counts);

}  // namespace qsim::analysis::detail::cuda
