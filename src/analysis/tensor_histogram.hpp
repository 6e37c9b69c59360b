#pragma once

// The entropy analyzer's histogram (quantization-semantics.md §3.6; AIMET's
// TensorProfilingParams and updateTensorHistogram_cpu): 512 counts over [min, max],
// extended whenever a batch falls outside it, the old counts then redistributed
// into the wider buckets with rounding. Bucket of x: min(trunc((x − min)/w), 511)
// in float. An all-zero batch is skipped entirely, also after the first batch.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "analysis/batch_stats.hpp"

namespace qsim::analysis::detail {

class TensorHistogram {
 public:
  /// Adds a non-empty batch; false when it was all zeros (skipped). Throws
  /// ValueError, starting with `where`, for NaN/Inf values; nothing changes then.
  bool update(const FloatBatch& batch, std::string_view where);

  bool initialized() const { return initialized_; }
  double min() const { return min_; }
  double max() const { return max_; }
  const std::array<double, kBuckets>& counts() const { return counts_; }

 private:
  void extend(double min, double max);

  bool initialized_ = false;
  double min_ = 0.0;
  double max_ = 0.0;
  std::array<double, kBuckets> counts_{};
};

/// rescaleHistogram: spreads `counts` over [src_min, src_max] onto the same number
/// of buckets over [dest_min, dest_max], by overlap, in whole (rounded) counts.
std::vector<double> rescale_histogram(const std::vector<double>& counts, double src_min, double src_max,
                                      double dest_min, double dest_max);

}  // namespace qsim::analysis::detail
