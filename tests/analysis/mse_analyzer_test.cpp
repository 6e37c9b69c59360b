// MSE analyzer, semantics §3.5.
#include <gtest/gtest.h>

#include "analysis/mse_analyzer.hpp"
#include "analyzer_test_util.hpp"

namespace qsim::analysis::test {
namespace {

using quant::Symmetry;

// Data {10, 11}: centre 10.5, L = 10.5 − 3·0.5 = 9, w = 3/512. Zero-widened range
// [0, x_left[341] + w]. The centres start at lo + w/2 = w/2 and run 343 steps to
// 342.5w ≈ 2.007 < 9: every one falls before the histogram, weight pdf[0] = 0, so
// every cost is 0 and the first candidate (0, first positive edge = 9) wins.
TEST(MseTest, OneSidedDataKeepsTheFirstCandidateBecauseCentresStartAtZero) {
  const auto a = fed(AnalyzerKind::mse, {batch({10.0f, 11.0f})});
  const detail::FloatRange r = as<detail::MseAnalyzer>(*a).best_range(8, Symmetry::asymmetric);
  EXPECT_EQ(r.min, 0.0f);
  EXPECT_EQ(r.max, 9.0f);
  EXPECT_EQ(a->compute_encoding(8, Symmetry::asymmetric), quant::make_encoding(0.0, 9.0, 8, Symmetry::asymmetric));
}

// Symmetric data: the best range clips neither side by much and stays inside the
// histogram; the encoding is GRID of the zero-widened best range.
TEST(MseTest, TwoSidedDataGivesARangeAroundTheData) {
  at::manual_seed(2);
  const auto a = fed(AnalyzerKind::mse, {at::randn({20000})});
  const detail::FloatRange r = as<detail::MseAnalyzer>(*a).best_range(8, Symmetry::asymmetric);
  EXPECT_LT(r.min, -1.5f);
  EXPECT_GT(r.max, 1.5f);
  EXPECT_GT(r.min, -6.0f);
  EXPECT_LT(r.max, 6.0f);
  EXPECT_EQ(a->compute_encoding(8, Symmetry::asymmetric), quant::make_encoding(r.min, r.max, 8, Symmetry::asymmetric));
}

// With 2 bits the MSE range clips the tails much more than with 8 bits.
TEST(MseTest, FewerBitsClipMore) {
  at::manual_seed(6);
  const auto a = fed(AnalyzerKind::mse, {at::randn({20000})});
  const auto& mse = as<detail::MseAnalyzer>(*a);
  const detail::FloatRange r2 = mse.best_range(2, Symmetry::asymmetric);
  const detail::FloatRange r8 = mse.best_range(8, Symmetry::asymmetric);
  EXPECT_LT(r2.max - r2.min, r8.max - r8.min);
}

TEST(MseTest, AllZeroDataGivesTheFixedEncoding) {
  const auto a = fed(AnalyzerKind::mse, {repeated(0.0f, 3)});
  const quant::Encoding e = a->compute_encoding(8, Symmetry::symmetric);
  EXPECT_DOUBLE_EQ(e.delta, 2.0 / 255);
  EXPECT_EQ(e.offset, -128.0);
}

}  // namespace
}  // namespace qsim::analysis::test
