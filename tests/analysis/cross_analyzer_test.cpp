// Relations between analyzers and the effects of batch order (semantics §3, §9).
#include <cmath>

#include <gtest/gtest.h>

#include "analysis/percentile_analyzer.hpp"
#include "analysis/sqnr_search.hpp"
#include "analysis/tf_analyzer.hpp"
#include "analysis/tf_enhanced_analyzer.hpp"
#include "analyzer_test_util.hpp"

namespace qsim::analysis::test {
namespace {

using detail::Candidate;
using quant::Symmetry;

std::vector<at::Tensor> distributions() {
  at::manual_seed(17);
  return {at::randn({20000}),
          at::randn({20000}) * 0.1f + 0.4f,
          at::rand({20000}) * 3.0f - 0.5f,
          at::cat({at::randn({20000}), at::full({5}, 25.0f)}),
          at::exp(at::randn({20000}))};
}

// TF-enhanced never costs more than TF on its own histogram: the TF grid of the
// histogram's range, (hi − lo)/N with offset round(lo/Δ) in float, is one of the
// asymmetric candidates (the last). Against TF's grid of the *true* extremes the
// search carries no such guarantee (it is coarse: 17 × 21 clamped pairs), and on
// some of these distributions that grid is indeed slightly cheaper.
TEST(CrossAnalyzerTest, TfEnhancedCostsNoMoreThanTfOnItsHistogram) {
  for (const at::Tensor& x : distributions()) {
    const auto tfe = fed(AnalyzerKind::tf_enhanced, {x});
    const detail::PdfHistogram& h = as<detail::TfEnhancedAnalyzer>(*tfe).histogram();
    const detail::FloatRange r = h.original_range();
    const float delta = (r.max - r.min) / 255.0f;
    const Candidate tf_grid{delta, static_cast<int>(std::round(r.min / delta))};
    const quant::Encoding a = tfe->compute_encoding(8, Symmetry::asymmetric);
    const float cost_tfe = detail::sqnr_cost(h, 8, {static_cast<float>(a.delta), static_cast<int>(a.offset)});
    EXPECT_LE(cost_tfe, detail::sqnr_cost(h, 8, tf_grid));
  }
}

// Percentile 100 reads bucket centres (x_left) of the first and last non-empty
// buckets: within half a bucket of TF's true extremes, never the extremes
// themselves in general.
TEST(CrossAnalyzerTest, Percentile100IsTfWithinHalfABucket) {
  for (const at::Tensor& x : distributions()) {
    const auto p = fed(AnalyzerKind::percentile, {x});
    const auto& tf = as<detail::TfAnalyzer>(*fed(AnalyzerKind::tf, {x}));
    const auto& pct = as<detail::PercentileAnalyzer>(*p);
    const detail::FloatRange r = pct.percentile_range();
    const double half = pct.histogram().bucket_width() / 2.0 * 1.0001;
    EXPECT_NEAR(r.max, std::max(tf.max(), 0.0), half);
    EXPECT_NEAR(r.min, std::min(tf.min(), 0.0), half);
  }
}

// §9.15/§9.16: TF does not depend on batch order; the histogram analyzers do,
// because the first batch freezes the histogram. Order A: {−1, 1} first fixes
// [−3, 3] and 10 is dropped: percentile-100 max = 0.99609375. Order B: the batch
// with 10 comes first: centre 4.5, L = −12, w = 33/512; 10 → bucket
// round(22·512/33) = 341, x_left = −12 + 341·33/512 = 9.978515625.
TEST(CrossAnalyzerTest, Quirk15FirstBatchFreezesTheHistogram) {
  const at::Tensor small = batch({-1.0f, 1.0f});
  const at::Tensor wide = batch({-1.0f, -1.0f, -1.0f, 1.0f, 10.0f});
  const auto tf_ab = fed(AnalyzerKind::tf, {small, wide});
  const auto tf_ba = fed(AnalyzerKind::tf, {wide, small});
  EXPECT_EQ(tf_ab->compute_encoding(8, Symmetry::asymmetric), tf_ba->compute_encoding(8, Symmetry::asymmetric));

  const auto p_ab = fed(AnalyzerKind::percentile, {small, wide});
  const auto p_ba = fed(AnalyzerKind::percentile, {wide, small});
  EXPECT_EQ(as<detail::PercentileAnalyzer>(*p_ab).percentile_range().max, 0.99609375f);
  EXPECT_EQ(as<detail::PercentileAnalyzer>(*p_ba).percentile_range().max, 9.978515625f);
  for (AnalyzerKind k : {AnalyzerKind::tf_enhanced, AnalyzerKind::mse}) {
    EXPECT_NE(fed(k, {small, wide})->compute_encoding(8, Symmetry::asymmetric).max,
              fed(k, {wide, small})->compute_encoding(8, Symmetry::asymmetric).max)
        << to_string(k);
  }
}

// §9.16: equal batch weights. One batch of 1000 values at 1 and one of 10 values
// at −1 weigh the same, so the negative bucket holds half the mass (not 1%), and
// the percentile-90 range keeps it.
TEST(CrossAnalyzerTest, Quirk16SmallBatchesWeighAsMuchAsLargeOnes) {
  const auto a = fed(AnalyzerKind::percentile, {at::cat({repeated(1.0f, 1000), repeated(-1.0f, 1)}), repeated(-1.0f, 10)},
                     AnalyzerOptions().percentile(90));
  const auto& pct = as<detail::PercentileAnalyzer>(*a);
  const auto& pdf = pct.histogram().pdf();
  EXPECT_DOUBLE_EQ(pdf[171], (1.0 / 1001 + 1.0) / 2);
  EXPECT_LT(pct.percentile_range().min, -0.9f);
}

}  // namespace
}  // namespace qsim::analysis::test
