#pragma once

// The analyzers' statistics passes: kernels/cpu loops run in parallel chunks
// (at::parallel_for), each chunk into its own partial result, merged in chunk
// order. Min/max and integer counts do not depend on the split.

#include <array>
#include <cstdint>

#include "kernels/cpu/minmax.hpp"

namespace qsim::analysis::detail {

/// Buckets of the shared histogram (PDF_SIZE, semantics §3.2) and of the entropy one (§3.6).
inline constexpr int kBuckets = 512;
using BucketCounts = std::array<int64_t, kBuckets>;

/// Min, max and finiteness of data[0, n).
kernels::cpu::MinMax batch_minmax(const float* data, int64_t n);

/// kernels::cpu::histogram_rounded over data[0, n): counts of
/// round_away(x / width − offset) in [0, 512). Returns false for NaN/Inf data.
bool batch_histogram_rounded(const float* data, int64_t n, float width, float offset, BucketCounts& counts);

/// kernels::cpu::histogram_truncated over data[0, n). Returns false for NaN/Inf data.
bool batch_histogram_truncated(const float* data, int64_t n, float min, float width, BucketCounts& counts);

}  // namespace qsim::analysis::detail
