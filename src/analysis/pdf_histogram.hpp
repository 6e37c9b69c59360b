#pragma once

// The 512-bucket histogram shared by TF-enhanced, percentile and MSE
// (quantization-semantics.md §3.2; AIMET's PDF with InitializePdf/UpdatePdf and
// findOriginalRange). Its arithmetic is float32, as in AIMET's float analyzers;
// x_left and the pdf are stored as double.
//
// Quirks kept on purpose: the range is fixed by the first batch that is not all
// zeros (3× its spread) and later values outside it are dropped; the rounding in
// the binning makes x_left[i] the *centre* of bucket i although every user treats
// it as a left edge; each batch's counts are divided by that batch's size
// (dropped values included) and averaged with equal weight per batch.

#include <array>
#include <cstdint>
#include <string_view>

#include "analysis/batch_stats.hpp"

namespace qsim::analysis::detail {

struct FloatRange {
  float min;
  float max;
};

class PdfHistogram {
 public:
  /// Adds a non-empty batch. Before the range is fixed an all-zero batch is
  /// skipped entirely (returns false). Throws ValueError, starting with `where`,
  /// for NaN/Inf values or a first batch whose range float32 cannot split into
  /// 512 buckets; nothing changes then.
  bool update(const FloatBatch& batch, std::string_view where);

  /// Whether a batch fixed the range (the first one not all zeros).
  bool initialized() const { return batches_ > 0; }
  /// Batches averaged into the pdf.
  int64_t batches() const { return batches_; }

  const std::array<double, kBuckets>& x_left() const { return x_left_; }
  const std::array<double, kBuckets>& pdf() const { return pdf_; }
  /// x_left[0] as float: AIMET's pdfStart.
  float start() const { return static_cast<float>(x_left_[0]); }
  /// f32(x_left[1] − x_left[0]): the bucket width every user of the pdf works with.
  float bucket_width() const { return static_cast<float>(x_left_[1] - x_left_[0]); }

  /// findOriginalRange: x_left of the first and of the last (index ≥ 1) non-empty
  /// bucket, widened to contain 0 and to at least 0.01 (MIN_RANGE), in float.
  FloatRange original_range() const;

 private:
  bool fix_range(float min, float max, std::string_view where);

  std::array<double, kBuckets> x_left_{};
  std::array<double, kBuckets> pdf_{};
  int64_t batches_ = 0;
};

}  // namespace qsim::analysis::detail
