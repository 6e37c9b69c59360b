#include "analysis/pdf_histogram.hpp"

#include <algorithm>
#include <cmath>

#include "detail/check.hpp"

namespace qsim::analysis::detail {
namespace {

// InitializePdf (signed) in float: the first batch's [min, max], nudged when
// constant, spread 3× around its centre and cut into 512 buckets.
std::array<double, kBuckets> bucket_positions(float min, float max) {
  if (min == max) max = std::max(max, min + 0.01f);
  const float centre = (max + min) / 2;
  const float lo = centre - 3 * (centre - min);
  const float hi = centre + 3 * (max - centre);
  const float width = (hi - lo) / kBuckets;
  std::array<double, kBuckets> x_left{};
  for (int i = 0; i < kBuckets; ++i) x_left[static_cast<size_t>(i)] = lo + static_cast<float>(i) * width;
  return x_left;
}

bool usable(const std::array<double, kBuckets>& x_left) {
  const float width = static_cast<float>(x_left[1] - x_left[0]);
  const float offset = static_cast<float>(x_left[0]) / width;
  return width > 0.0f && std::isfinite(width) && std::isfinite(offset) && std::isfinite(x_left[kBuckets - 1]);
}

}  // namespace

bool PdfHistogram::fix_range(float min, float max, std::string_view where) {
  if (min == 0.0f && max == 0.0f) return false;
  const std::array<double, kBuckets> x_left = bucket_positions(min, max);
  QSIM_CHECK(usable(x_left), ValueError,
             "{}: the first non-zero batch's range [{}, {}] cannot be spread over {} float32 histogram buckets", where,
             min, max, kBuckets);
  x_left_ = x_left;
  return true;
}

bool PdfHistogram::update(const FloatBatch& batch, std::string_view where) {
  if (!initialized()) {
    const kernels::cpu::MinMax mm = batch_minmax(batch);
    QSIM_CHECK(mm.finite, ValueError, "{}: batch contains NaN or Inf values", where);
    if (!fix_range(mm.min, mm.max, where)) return false;
  }
  const float width = bucket_width();
  const float offset = start() / width;
  BucketCounts counts{};
  const bool finite = batch_histogram_rounded(batch, width, offset, counts);
  // Only a later batch can fail here (the first one was checked above), and the
  // pdf is untouched so far.
  QSIM_CHECK(finite, ValueError, "{}: batch contains NaN or Inf values", where);
  const double k = static_cast<double>(batches_);
  for (size_t i = 0; i < kBuckets; ++i) {
    const double prob = static_cast<double>(counts[i]) / static_cast<double>(batch.size);
    pdf_[i] = (pdf_[i] * k + prob) / (k + 1);
  }
  ++batches_;
  return true;
}

FloatRange PdfHistogram::original_range() const {
  float lo = static_cast<float>(x_left_[0]);
  float hi = static_cast<float>(x_left_[kBuckets - 1]);
  for (size_t i = 0; i < kBuckets; ++i) {
    if (pdf_[i] > 0) {
      lo = static_cast<float>(x_left_[i]);
      break;
    }
  }
  for (size_t i = kBuckets - 1; i > 0; --i) {
    if (pdf_[i] > 0) {
      hi = static_cast<float>(x_left_[i]);
      break;
    }
  }
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  hi = std::max(hi, lo + 0.01f);
  return {lo, hi};
}

}  // namespace qsim::analysis::detail
