// Entropy (KL) analyzer, semantics §3.6.
#include <gtest/gtest.h>

#include "analysis/entropy_analyzer.hpp"
#include "analyzer_test_util.hpp"

namespace qsim::analysis::test {
namespace {

using quant::Symmetry;

const detail::EntropyAnalyzer& entropy_of(const EncodingAnalyzer& a) { return as<detail::EntropyAnalyzer>(a); }

// Batch {0, 1}: range [0, 1], w = 1/512: 0 → bucket 0, 1 → trunc(512) → 511.
// Batch {−1, 1} extends to [−1, 1] (w' = 2/512): old bucket 0 starts at 0 →
// new bucket (0 + 1)/w' = 256, ending at 0.00390625, which holds round(2·1) ≥ 1,
// so the whole count moves there; old bucket 511 starts at 511/512 → new bucket
// trunc(511.5) = 511. Then −1 → 0 and 1 → 511.
TEST(EntropyTest, ExtendsTheRangeAndRedistributesCounts) {
  const auto a = fed(AnalyzerKind::entropy, {batch({0.0f, 1.0f}), batch({-1.0f, 1.0f})});
  const detail::TensorHistogram& h = entropy_of(*a).histogram();
  EXPECT_EQ(h.min(), -1.0);
  EXPECT_EQ(h.max(), 1.0);
  EXPECT_EQ(h.counts()[0], 1.0);
  EXPECT_EQ(h.counts()[256], 1.0);
  EXPECT_EQ(h.counts()[511], 2.0);
  double total = 0;
  for (double c : h.counts()) total += c;
  EXPECT_EQ(total, 4.0);
}

// bw ≠ 8: the histogram range itself ([−1, 2]); signed symmetric first rescales
// it to [−A, A] = [−2, 2].
TEST(EntropyTest, OtherBitwidthsUseTheHistogramRange) {
  const auto a = fed(AnalyzerKind::entropy, {batch({-1.0f, 0.5f, 2.0f})});
  EXPECT_EQ(a->compute_encoding(4, Symmetry::asymmetric), quant::make_encoding(-1.0, 2.0, 4, Symmetry::asymmetric));
  const auto [lo, hi] = entropy_of(*a).kl_range(4, Symmetry::symmetric);
  EXPECT_EQ(lo, -2.0f);
  EXPECT_EQ(hi, 2.0f);
}

// An all-zero batch is skipped entirely, also after the first data.
TEST(EntropyTest, AllZeroBatchesAreSkipped) {
  const auto a = fed(AnalyzerKind::entropy, {batch({0.0f, 1.0f}), repeated(0.0f, 10)});
  double total = 0;
  for (double c : entropy_of(*a).histogram().counts()) total += c;
  EXPECT_EQ(total, 2.0);
  const auto zeros = fed(AnalyzerKind::entropy, {repeated(0.0f, 10)});
  const quant::Encoding e = zeros->compute_encoding(8, Symmetry::strict_symmetric);
  EXPECT_EQ(e.offset, -127.0);
  EXPECT_DOUBLE_EQ(e.delta, 2.0 / 254);
}

// At 8 bits the KL search clips a far outlier that TF keeps, down to its narrowest
// window: 255 of the 512 buckets (256 when shrinking symmetrically), i.e. about
// half the histogram range ([−60, 60] after the symmetric rescale).
TEST(EntropyTest, KlSearchClipsOutliers) {
  at::manual_seed(12);
  const at::Tensor x = at::cat({at::randn({20000}), batch({60.0f})});
  const auto kl = fed(AnalyzerKind::entropy, {x});
  const auto tf = fed(AnalyzerKind::tf, {x});
  for (Symmetry s : {Symmetry::asymmetric, Symmetry::symmetric}) {
    const quant::Encoding e = kl->compute_encoding(8, s);
    EXPECT_LT(e.max, 0.55 * tf->compute_encoding(8, s).max) << quant::to_string(s);
    EXPECT_GT(e.max, 2.0) << quant::to_string(s);
  }
}

TEST(EntropyTest, RescaleKeepsTheTotalCount) {
  const std::vector<double> src = {3, 0, 5, 1};
  const std::vector<double> dst = detail::rescale_histogram(src, 0.0, 4.0, -4.0, 4.0);
  double total = 0;
  for (double c : dst) total += c;
  EXPECT_EQ(total, 9.0);
  // [0,1) and [1,2) → [0,2); [2,3) and [3,4) → [2,4)
  EXPECT_EQ(dst, (std::vector<double>{0, 0, 3, 6}));
}

}  // namespace
}  // namespace qsim::analysis::test
