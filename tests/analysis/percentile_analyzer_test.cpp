// Percentile analyzer, semantics §3.4. Batches {−1, …, 1} fix the histogram of
// pdf_histogram_test: x_left[i] = −3 + 3i/256, w = 3/256; −1 → bucket 171
// (x_left −0.99609375), 0.5 → bucket round(0.5·256/3 + 256) = 299 (x_left
// 0.50390625), 1 → bucket 341 (x_left 0.99609375).
#include <gtest/gtest.h>

#include "analysis/percentile_analyzer.hpp"
#include "analyzer_test_util.hpp"
#include "support/expect_error.hpp"

namespace qsim::analysis::test {
namespace {

using quant::Symmetry;

const detail::PercentileAnalyzer& percentile_of(const EncodingAnalyzer& a) {
  return as<detail::PercentileAnalyzer>(a);
}

at::Tensor mostly_half() {
  // −1 once, 0.5 98 times, 1 once: pdf 0.01 / 0.98 / 0.01.
  return at::cat({batch({-1.0f, 1.0f}), repeated(0.5f, 98)});
}

// §9.17: P = 100 is the histogram's left-edge range, not the true [−1, 1].
TEST(PercentileTest, Quirk17Percentile100UsesLeftEdges) {
  const auto a = fed(AnalyzerKind::percentile, {batch({-1.0f, 1.0f})});
  const detail::FloatRange r = percentile_of(*a).percentile_range();
  EXPECT_EQ(r.min, -0.99609375f);
  EXPECT_EQ(r.max, 0.99609375f);
  EXPECT_EQ(a->compute_encoding(8, Symmetry::asymmetric),
            quant::make_encoding(-0.99609375, 0.99609375, 8, Symmetry::asymmetric));
}

// P = 98.5: left tail 0.015 → first cdf ≥ 0.015 is bucket 299 (cdf 0.99):
// pmin = 0.50390625. Right: last cdf < 0.985 is bucket 298 (cdf 0.01) →
// pmax = x_left[299] = pmin → pmax += w = 0.515625. Zero-widened: [0, 0.515625].
TEST(PercentileTest, NarrowMassCollapsesToOneBucketWidth) {
  const auto a = fed(AnalyzerKind::percentile, {mostly_half()}, AnalyzerOptions().percentile(98.5));
  const detail::FloatRange r = percentile_of(*a).percentile_range();
  EXPECT_EQ(r.min, 0.50390625f);
  EXPECT_EQ(r.max, 0.515625f);
  EXPECT_EQ(a->compute_encoding(8, Symmetry::asymmetric), quant::make_encoding(0.0, 0.515625, 8, Symmetry::asymmetric));
}

// P = 99.5: left 0.005 → bucket 171 (cdf 0.01); right: the last cdf below 0.995
// is bucket 340 (cdf 0.99) → pmax = x_left[341].
TEST(PercentileTest, TailsInsideThePercentileAreKept) {
  const auto a = fed(AnalyzerKind::percentile, {mostly_half()}, AnalyzerOptions().percentile(99.5));
  const detail::FloatRange r = percentile_of(*a).percentile_range();
  EXPECT_EQ(r.min, -0.99609375f);
  EXPECT_EQ(r.max, 0.99609375f);
}

// Mass outside the histogram: batch 2 = {5, 5, 5, 5} is all dropped (bucket 683),
// so the pdf sums to 0.5 and no cdf reaches P/100 = 0.9. Where AIMET would read
// x_left[512], the range ends at x_left[511] + w = −3 + 512·3/256 = 3.
TEST(PercentileTest, MassOutsideTheHistogramEndsAtItsRightEdge) {
  const auto a = fed(AnalyzerKind::percentile, {batch({-1.0f, 1.0f}), repeated(5.0f, 4)},
                     AnalyzerOptions().percentile(90));
  const detail::FloatRange r = percentile_of(*a).percentile_range();
  EXPECT_EQ(r.min, -0.99609375f);
  EXPECT_EQ(r.max, 3.0f);
}

// P < 50 on data around 0 puts the upper percentile below 0 and the lower one
// above: the zero-widened range is [0, 0], which has no encoding.
TEST(PercentileTest, PercentileBelowFiftyCanLeaveNoRange) {
  at::manual_seed(4);
  const auto a = fed(AnalyzerKind::percentile, {at::randn({4000})}, AnalyzerOptions().percentile(10));
  QSIM_EXPECT_THROW_MSG(a->compute_encoding(8, Symmetry::asymmetric), ValueError,
                        {"percentile analyzer", "percentile 10", "empty"});
}

// Only zeros: the fixed [−1, 1] encoding with the strict step count:
// N = 254 ⇒ Δ = 2/254, o = floor(−127) = −127, min = −1, max = 1.
TEST(PercentileTest, AllZeroDataGivesTheFixedEncodingWithStrictSteps) {
  const auto a = fed(AnalyzerKind::percentile, {repeated(0.0f, 3)}, AnalyzerOptions().percentile(99));
  const quant::Encoding strict = a->compute_encoding(8, Symmetry::strict_symmetric);
  EXPECT_DOUBLE_EQ(strict.delta, 2.0 / 254);
  EXPECT_EQ(strict.offset, -127.0);
  EXPECT_DOUBLE_EQ(strict.min, -1.0);
  EXPECT_DOUBLE_EQ(strict.max, 1.0);
  const quant::Encoding asym = a->compute_encoding(8, Symmetry::asymmetric);
  EXPECT_DOUBLE_EQ(asym.delta, 2.0 / 255);
  EXPECT_EQ(asym.offset, -128.0);
}

// Any P in (0, 100] is accepted; a smaller P never widens the range.
TEST(PercentileTest, SmallerPercentilesGiveNarrowerRanges) {
  at::manual_seed(8);
  const at::Tensor x = at::randn({20000});
  float previous_width = 1e30f;
  for (double p : {100.0, 99.99, 99.9, 99.0, 95.0, 90.0, 75.0, 60.0}) {
    const auto a = fed(AnalyzerKind::percentile, {x}, AnalyzerOptions().percentile(p));
    const detail::FloatRange r = percentile_of(*a).percentile_range();
    EXPECT_LE(r.max - r.min, previous_width) << "P = " << p;
    previous_width = r.max - r.min;
  }
}

}  // namespace
}  // namespace qsim::analysis::test
