#pragma once

// The analyzers' statistics passes: kernels/cpu loops run in parallel chunks
// (at::parallel_for), each chunk into its own partial result, merged in chunk
// order. Min/max and integer counts do not depend on the split.

#include <array>
#include <cstdint>

#include "kernels/cpu/minmax.hpp"
#include "qsim/analysis/float_batch.hpp"

namespace qsim::analysis::detail {

/// Buckets of the shared histogram (PDF_SIZE, semantics §3.2) and of the entropy one (§3.6).
inline constexpr int kBuckets = 512;
using BucketCounts = std::array<int64_t, kBuckets>;

// Each pass runs where the batch is: kernels/cpu for host values, kernels/cuda for
// values on a CUDA device (same integer counts and extremes: the slot arithmetic
// is the same float operations).

/// Min, max and finiteness of the batch.
kernels::cpu::MinMax batch_minmax(const FloatBatch& batch);

/// histogram_rounded over the batch: counts of round_away(x / width − offset) in
/// [0, 512). Returns false for NaN/Inf data.
bool batch_histogram_rounded(const FloatBatch& batch, float width, float offset, BucketCounts& counts);

/// histogram_truncated over the batch. Returns false for NaN/Inf data.
bool batch_histogram_truncated(const FloatBatch& batch, float min, float width, BucketCounts& counts);

}  // namespace qsim::analysis::detail
