// The shared 512-bucket histogram (semantics §3.2), through the TF-enhanced analyzer.
#include <gtest/gtest.h>

#include "analysis/tf_enhanced_analyzer.hpp"
#include "analyzer_test_util.hpp"

namespace qsim::analysis::test {
namespace {

using detail::PdfHistogram;
using detail::TfEnhancedAnalyzer;

const PdfHistogram& pdf_of(const EncodingAnalyzer& a) { return as<TfEnhancedAnalyzer>(a).histogram(); }

// First batch {−1, 1}: centre 0, L = 0 − 3·1 = −3, H = 3, w = 6/512 = 3/256 (all exact
// in float), x_left[i] = −3 + 3i/256. Binning: round_away(x·256/3 + 256):
// −1 → round(170.67) = 171, 1 → round(341.33) = 341.
TEST(PdfHistogramTest, FirstBatchFixesThreeTimesItsSpread) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {batch({-1.0f, 1.0f})});
  const PdfHistogram& h = pdf_of(*a);
  EXPECT_EQ(h.x_left()[0], -3.0);
  EXPECT_EQ(h.x_left()[511], -3.0 + 511 * 3.0 / 256);
  EXPECT_EQ(h.bucket_width(), 3.0f / 256);
  EXPECT_EQ(h.pdf()[171], 0.5);
  EXPECT_EQ(h.pdf()[341], 0.5);
  EXPECT_EQ(h.batches(), 1);
}

// §9.15: the x_left values are bucket centres, but the range reads them as left
// edges: −1 lands in bucket 171 whose x_left is −3 + 171·3/256 = −0.99609375.
TEST(PdfHistogramTest, Quirk15BucketCentresAreReadAsLeftEdges) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {batch({-1.0f, 1.0f})});
  const detail::FloatRange r = pdf_of(*a).original_range();
  EXPECT_EQ(r.min, -0.99609375f);
  EXPECT_EQ(r.max, 0.99609375f);
}

// §9.15/§9.16: the second batch {−1, −1, −1, 1, 10} is binned into the first
// batch's [−3, 3]; 10 is dropped but still counts in the batch size 5:
// p171 = (0.5·1 + 3/5)/2 = 0.55, p341 = (0.5 + 1/5)/2 = 0.35, sum 0.9 < 1; the
// batches weigh the same although their sizes are 2 and 5.
TEST(PdfHistogramTest, Quirk16BatchesWeighEquallyAndDroppedValuesCount) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {batch({-1.0f, 1.0f}), batch({-1.0f, -1.0f, -1.0f, 1.0f, 10.0f})});
  const PdfHistogram& h = pdf_of(*a);
  EXPECT_DOUBLE_EQ(h.pdf()[171], 0.55);
  EXPECT_DOUBLE_EQ(h.pdf()[341], 0.35);
  double total = 0;
  for (double p : h.pdf()) total += p;
  EXPECT_DOUBLE_EQ(total, 0.9);
  EXPECT_EQ(h.x_left()[0], -3.0);  // range frozen by the first batch
}

// §3.2: an all-zero batch before the range is fixed is skipped (not averaged).
TEST(PdfHistogramTest, AllZeroBatchBeforeTheFirstDataIsSkipped) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {repeated(0.0f, 7), batch({-1.0f, 1.0f})});
  const PdfHistogram& h = pdf_of(*a);
  EXPECT_EQ(h.batches(), 1);
  EXPECT_EQ(h.pdf()[171], 0.5);
}

// After the range is fixed, an all-zero batch is an ordinary batch: 0 → bucket 256.
TEST(PdfHistogramTest, AllZeroBatchAfterTheFirstDataIsAveraged) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {batch({-1.0f, 1.0f}), repeated(0.0f, 3)});
  const PdfHistogram& h = pdf_of(*a);
  EXPECT_EQ(h.batches(), 2);
  EXPECT_EQ(h.pdf()[171], 0.25);
  EXPECT_EQ(h.pdf()[256], 0.5);
}

// Constant data 1: mx = 1.01, centre 1.005, range [1.005 − 3·0.005, 1.005 + 3·0.005]
// = [0.99, 1.02] (in float).
TEST(PdfHistogramTest, ConstantBatchGetsAMinimumSpread) {
  const auto a = fed(AnalyzerKind::tf_enhanced, {repeated(1.0f, 5)});
  const PdfHistogram& h = pdf_of(*a);
  const float mx = 1.0f + 0.01f;
  const float c = (mx + 1.0f) / 2;
  EXPECT_EQ(h.x_left()[0], c - 3 * (c - 1.0f));
  EXPECT_NEAR(h.x_left()[0], 0.99, 1e-6);
  double total = 0;
  for (double p : h.pdf()) total += p;
  EXPECT_EQ(total, 1.0);
}

TEST(PdfHistogramTest, ParallelChunksGiveTheSameCountsAsOneChunk) {
  // 300k values: several at::parallel_for chunks. Reference: the §3.2 formula.
  at::manual_seed(3);
  const at::Tensor x = at::randn({300000}) * 2.0f + 0.5f;
  const auto a = fed(AnalyzerKind::tf_enhanced, {x});
  const PdfHistogram& h = pdf_of(*a);
  const float w = h.bucket_width();
  const float off = h.start() / w;
  std::vector<int64_t> counts(512, 0);
  const float* p = x.data_ptr<float>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int idx = static_cast<int>(std::roundf(p[i] / w - off));
    if (idx >= 0 && idx < 512) ++counts[static_cast<size_t>(idx)];
  }
  for (size_t i = 0; i < 512; ++i) {
    EXPECT_EQ(h.pdf()[i], static_cast<double>(counts[i]) / static_cast<double>(x.numel())) << "bucket " << i;
  }
}

}  // namespace
}  // namespace qsim::analysis::test
