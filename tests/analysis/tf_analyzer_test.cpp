// TF (min/max) analyzer, semantics §3.1.
#include <gtest/gtest.h>

#include "analysis/tf_analyzer.hpp"
#include "analyzer_test_util.hpp"
#include "support/expect_error.hpp"

namespace qsim::analysis::test {
namespace {

using quant::Symmetry;

// Batches {−1, 2} and {0.5, 3}: running min −1, max 3. Asymmetric 8 bit:
// Δ = 4/255, zero point round(1/Δ) = round(63.75) = 64, min = −64Δ, max = 4 + min.
TEST(TfAnalyzerTest, AsymmetricFromRunningMinMax) {
  const auto a = fed(AnalyzerKind::tf, {batch({-1.0f, 2.0f}), batch({0.5f, 3.0f})});
  const quant::Encoding e = a->compute_encoding(8, Symmetry::asymmetric);
  EXPECT_DOUBLE_EQ(e.delta, 4.0 / 255);
  EXPECT_EQ(e.offset, -64.0);
  EXPECT_DOUBLE_EQ(e.min, -64 * (4.0 / 255));
  EXPECT_DOUBLE_EQ(e.max, 4.0 + e.min);
  EXPECT_EQ(e.bitwidth, 8);
}

// Signed symmetric: A = 3, Δ = 3/127, o = −128, min = −128Δ (beyond the data), max = 127Δ.
TEST(TfAnalyzerTest, SymmetricUsesTheLargerMagnitude) {
  const auto a = fed(AnalyzerKind::tf, {batch({-1.0f, 2.0f}), batch({0.5f, 3.0f})});
  const quant::Encoding e = a->compute_encoding(8, Symmetry::symmetric);
  EXPECT_DOUBLE_EQ(e.delta, 3.0 / 127);
  EXPECT_EQ(e.offset, -128.0);
  EXPECT_DOUBLE_EQ(e.max, 127 * (3.0 / 127));
}

// All values positive with unsigned symmetric: lo = 0 ⇒ Δ = 2/255, o = 0.
TEST(TfAnalyzerTest, PositiveDataIsUnsignedUnderUnsignedSymmetric) {
  const auto a = fed(AnalyzerKind::tf, {batch({0.5f, 2.0f})});
  const quant::Encoding e = a->compute_encoding(8, Symmetry::unsigned_symmetric);
  EXPECT_DOUBLE_EQ(e.delta, 2.0 / 255);
  EXPECT_EQ(e.offset, 0.0);
  EXPECT_EQ(e.min, 0.0);
  EXPECT_DOUBLE_EQ(e.max, 2.0);
}

// All zeros: lo = 0, hi = max(0, 0 + 0.01) = 0.01 (MIN_RANGE).
TEST(TfAnalyzerTest, AllZeroDataGetsTheMinimumRange) {
  const auto a = fed(AnalyzerKind::tf, {repeated(0.0f, 4)});
  const quant::Encoding e = a->compute_encoding(8, Symmetry::asymmetric);
  EXPECT_EQ(e.min, 0.0);
  EXPECT_DOUBLE_EQ(e.delta, 0.01 / 255);
  EXPECT_DOUBLE_EQ(e.max, 0.01);
}

// Constant data 5: range [0, 5], the constant is on the grid's top.
TEST(TfAnalyzerTest, ConstantDataIsZeroWidened) {
  const auto a = fed(AnalyzerKind::tf, {repeated(5.0f, 3)});
  const quant::Encoding e = a->compute_encoding(4, Symmetry::asymmetric);
  EXPECT_DOUBLE_EQ(e.delta, 5.0 / 15);
  EXPECT_EQ(e.min, 0.0);
  EXPECT_DOUBLE_EQ(e.max, 5.0);
}

TEST(TfAnalyzerTest, BatchOrderDoesNotMatter) {
  const auto ab = fed(AnalyzerKind::tf, {batch({-1.0f, 2.0f}), batch({0.5f, 3.0f, -0.25f})});
  const auto ba = fed(AnalyzerKind::tf, {batch({0.5f, 3.0f, -0.25f}), batch({-1.0f, 2.0f})});
  EXPECT_EQ(ab->compute_encoding(8, Symmetry::asymmetric), ba->compute_encoding(8, Symmetry::asymmetric));
}

// Stats are float batch extremes widened to double.
TEST(TfAnalyzerTest, KeepsFloatExtremesAsDouble) {
  const auto a = fed(AnalyzerKind::tf, {batch({-0.1f, 0.3f})});
  const auto& tf = as<detail::TfAnalyzer>(*a);
  EXPECT_EQ(tf.min(), static_cast<double>(-0.1f));
  EXPECT_EQ(tf.max(), static_cast<double>(0.3f));
}

TEST(TfAnalyzerTest, EmptyBatchesChangeNothingAndLargeBatchesRunInParallel) {
  at::manual_seed(1);
  const at::Tensor big = at::randn({200001});
  auto a = fed(AnalyzerKind::tf, {at::empty({0}), big, at::empty({3, 0})});
  const auto& tf = as<detail::TfAnalyzer>(*a);
  EXPECT_EQ(tf.min(), big.min().item<float>());
  EXPECT_EQ(tf.max(), big.max().item<float>());
  EXPECT_EQ(a->num_batches(), 3);
}

TEST(TfAnalyzerTest, AcceptsOtherFloatingDtypesAsFloat32) {
  const auto a = fed(AnalyzerKind::tf, {at::tensor({-0.1, 0.3}, at::kDouble)});
  EXPECT_EQ(as<detail::TfAnalyzer>(*a).min(), static_cast<double>(-0.1f));
}

}  // namespace
}  // namespace qsim::analysis::test
