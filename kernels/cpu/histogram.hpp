#pragma once

// Histogram binning for the encoding analyzers (quantization-semantics.md §3.2,
// §3.6), free of LibTorch: one pass over a range of floats, counts added to the
// caller's int64_t buckets. The analysis layer splits a batch into chunks
// (at::parallel_for), bins each chunk into its own counts and adds them up, so the
// result does not depend on the split. The AVX2 path is chosen at run time
// (avx2_active() in fake_quant_cpu.hpp) and is bit-identical to the scalar path:
// the index arithmetic is the same IEEE float operations in the same order.

#include <cstdint>

namespace qsim::kernels::cpu {

/// The shared 512-bucket histogram of TF-enhanced, percentile and MSE (§3.2):
/// bucket i = (int) round_away(x / width − offset), all in float (offset = L/w,
/// computed by the caller); values whose index falls outside [0, buckets) are
/// dropped. NaN and ±Inf values are dropped too. Adds to counts[0, buckets).
/// Returns false when any value was NaN or ±Inf.
bool histogram_rounded(const float* x, int64_t n, float width, float offset, int64_t* counts, int64_t buckets);

/// The entropy analyzer's histogram (§3.6, AIMET's getBin): bucket
/// i = min(trunc((x − min) / width), buckets − 1) in float; values below `min`
/// land in bucket 0, and so does everything when width == 0. NaN and ±Inf values
/// are not counted. Adds to counts[0, buckets). Returns false when any value was
/// NaN or ±Inf.
bool histogram_truncated(const float* x, int64_t n, float min, float width, int64_t* counts, int64_t buckets);

}  // namespace qsim::kernels::cpu
