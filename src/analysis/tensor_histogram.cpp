#include "analysis/tensor_histogram.hpp"

#include <algorithm>
#include <cmath>

#include "detail/check.hpp"

namespace qsim::analysis::detail {
namespace {

// getBin (float arguments, as in AIMET), with values below `min` put in bucket 0.
size_t get_bin(float width, float min, float value) {
  if (width == 0.0f) return 0;
  const float t = (value - min) / width;
  if (!(t > 0.0f)) return 0;
  if (!(t < static_cast<float>(kBuckets - 1))) return kBuckets - 1;
  return static_cast<size_t>(t);
}

}  // namespace

bool TensorHistogram::update(const FloatBatch& batch, std::string_view where) {
  const kernels::cpu::MinMax mm = batch_minmax(batch);
  QSIM_CHECK(mm.finite, ValueError, "{}: batch contains NaN or Inf values", where);
  const double lo = mm.min;
  double hi = mm.max;
  if (lo == 0 && hi == 0) return false;
  if (lo == hi) hi = std::max(hi, lo + static_cast<double>(0.01f));
  if (!initialized_) {
    counts_.fill(0.0);
    min_ = lo;
    max_ = hi;
    initialized_ = true;
  }
  if (lo < min_ || hi > max_) extend(std::min(lo, min_), std::max(hi, max_));
  const float width = static_cast<float>((max_ - min_) / kBuckets);
  BucketCounts counts{};
  batch_histogram_truncated(batch, static_cast<float>(min_), width, counts);
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += static_cast<double>(counts[i]);
  return true;
}

// The rescale inside updateTensorHistogram_cpu: each old bucket's count goes to
// the new bucket holding its start, the part past that bucket's end (rounded) to
// the next one.
void TensorHistogram::extend(double new_min, double new_max) {
  const double dest_width = (new_max - new_min) / kBuckets;
  const double src_width = (max_ - min_) / kBuckets;
  std::array<double, kBuckets> scaled{};
  for (size_t i = 0; i < kBuckets; ++i) {
    const double count = counts_[i];
    if (count == 0) continue;
    const double src_begin = min_ + src_width * static_cast<double>(i);
    const double dest_pos = std::max(0.0, (src_begin - new_min) / dest_width);
    const double dest_end = new_min + dest_width * (std::floor(dest_pos) + 1);
    const double first = std::max(0.0, std::min(std::round((dest_end - src_begin) / src_width * count), count));
    scaled[get_bin(static_cast<float>(dest_width), static_cast<float>(new_min), static_cast<float>(src_begin))] +=
        first;
    if (first < count) {
      const float next = static_cast<float>(src_begin + dest_width);
      scaled[get_bin(static_cast<float>(dest_width), static_cast<float>(new_min), next)] += count - first;
    }
  }
  counts_ = scaled;
  min_ = new_min;
  max_ = new_max;
}

std::vector<double> rescale_histogram(const std::vector<double>& counts, double src_min, double src_max,
                                      double dest_min, double dest_max) {
  if (counts.empty() || (src_min == dest_min && src_max == dest_max)) return counts;
  const size_t n = counts.size();
  const double src_width = (src_max - src_min) / static_cast<double>(n);
  const double dest_width = (dest_max - dest_min) / static_cast<double>(n);
  std::vector<double> dest(n, 0.0);
  for (size_t s = 0; s < n; ++s) {
    const double value = counts[s];
    if (value == 0) continue;
    const double start = src_min + static_cast<double>(s) * src_width;
    const double stop = src_min + static_cast<double>(s + 1) * src_width;
    auto clamp_index = [n](double f) { return std::min(static_cast<size_t>(std::max(f, 0.0)), n - 1); };
    const size_t first = clamp_index(std::floor((start - dest_min) / dest_width));
    const size_t last = clamp_index(std::ceil((stop - dest_min) / dest_width));
    double remaining = value;
    for (size_t d = first; d <= last; ++d) {
      const double d_start = dest_min + static_cast<double>(d) * dest_width;
      const double d_stop = dest_min + static_cast<double>(d + 1) * dest_width;
      double ratio = (std::min(stop, d_stop) - std::max(start, d_start)) / src_width;
      ratio = std::min(std::max(ratio, 0.0), 1.0);
      const double share = std::min(std::round(ratio * value), remaining);
      dest[d] += share;
      remaining -= share;
    }
  }
  return dest;
}

}  // namespace qsim::analysis::detail
