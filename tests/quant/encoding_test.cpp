#include "qsim/quant/encoding.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace qsim::quant {
namespace {

TEST(EncodingTest, AsymmetricStraddlingZeroFollowsGrid) {
  const Encoding e = make_encoding(-1.0, 3.0, 8, Symmetry::asymmetric);
  const double delta = 4.0 / 255.0;
  EXPECT_EQ(e.bitwidth, 8);
  EXPECT_DOUBLE_EQ(e.delta, delta);
  EXPECT_EQ(e.offset, -std::round(1.0 / delta));
  EXPECT_EQ(e.min, e.offset * e.delta);
  EXPECT_EQ(e.max, 4.0 + e.min);  // (hi − lo) + min, not N·Δ + min
}

TEST(EncodingTest, AsymmetricWithZeroLowEndHasZeroOffset) {
  const Encoding e = make_encoding(0.0, 2.0, 8, Symmetry::asymmetric);
  EXPECT_EQ(e.offset, 0.0);
  EXPECT_EQ(e.min, 0.0);
  EXPECT_EQ(e.max, 2.0);
}

TEST(EncodingTest, AsymmetricWithZeroHighEndHasOffsetMinusN) {
  const Encoding e = make_encoding(-2.0, 0.0, 8, Symmetry::asymmetric);
  EXPECT_EQ(e.offset, -255.0);
  EXPECT_DOUBLE_EQ(e.min, -2.0);
}

TEST(EncodingTest, Quirk4SignedSymmetricHas128NegativeLevels) {
  const Encoding e = make_encoding(-0.5, 1.27, 8, Symmetry::symmetric);
  EXPECT_DOUBLE_EQ(e.delta, 1.27 / 127.0);
  EXPECT_EQ(e.offset, -128.0);
  EXPECT_EQ(e.min, -128.0 * e.delta);  // beyond the data
  EXPECT_EQ(e.max, 127.0 * e.delta);
  EXPECT_LT(e.min, -e.max);
}

TEST(EncodingTest, StrictSymmetricIsCentred) {
  const Encoding e = make_encoding(-3.0, 1.0, 8, Symmetry::strict_symmetric);
  EXPECT_DOUBLE_EQ(e.delta, 3.0 / 127.0);
  EXPECT_EQ(e.offset, -127.0);
  EXPECT_EQ(e.min, -e.max);
}

TEST(EncodingTest, UnsignedSymmetricIsAsymmetricFormulaOnNonNegativeRange) {
  const Encoding e = make_encoding(0.0, 2.55, 8, Symmetry::unsigned_symmetric);
  EXPECT_DOUBLE_EQ(e.delta, 2.55 / 255.0);
  EXPECT_EQ(e.offset, 0.0);
  EXPECT_EQ(e.max, 2.55);
}

TEST(EncodingTest, UnsignedSymmetricWithNegativePartIsSigned) {
  EXPECT_EQ(make_encoding(-1.0, 2.0, 8, Symmetry::unsigned_symmetric),
            make_encoding(-1.0, 2.0, 8, Symmetry::symmetric));
}

TEST(EncodingTest, SymmetricIsSignedEvenForNonNegativeRange) {
  const Encoding e = make_encoding(0.0, 1.27, 8, Symmetry::symmetric);
  EXPECT_EQ(e.offset, -128.0);
}

TEST(EncodingTest, BitwidthEdges) {
  for (int b : {1, 2, 8, 16, 31, 32}) {
    const Encoding e = make_encoding(-1.0, 1.0, b, Symmetry::asymmetric);
    const double steps = std::ldexp(1.0, b) - 1.0;
    EXPECT_DOUBLE_EQ(e.delta, 2.0 / steps) << "bitwidth " << b;
    EXPECT_EQ(e.offset, -std::clamp(std::round(1.0 / e.delta), 0.0, steps)) << "bitwidth " << b;
  }
  for (int b : {2, 8, 16, 31, 32}) {
    const Encoding e = make_encoding(-1.0, 1.0, b, Symmetry::symmetric);
    const double steps = std::ldexp(1.0, b) - 1.0;
    EXPECT_EQ(e.delta, 1.0 / std::floor(steps / 2)) << "bitwidth " << b;
    EXPECT_EQ(e.offset, -std::ceil(steps / 2)) << "bitwidth " << b;
    EXPECT_EQ(e.max, 1.0) << "bitwidth " << b;
  }
}

TEST(EncodingTest, StrictSymmetricAtTwoBitsHasOneLevelEachSide) {
  const Encoding e = make_encoding(-2.0, 1.0, 2, Symmetry::strict_symmetric);
  EXPECT_EQ(e.delta, 2.0);
  EXPECT_EQ(e.offset, -1.0);
  EXPECT_EQ(e.min, -2.0);
  EXPECT_EQ(e.max, 2.0);
}

TEST(EncodingTest, OneBitAsymmetricAndUnsignedWork) {
  const Encoding e = make_encoding(0.0, 1.0, 1, Symmetry::unsigned_symmetric);
  EXPECT_EQ(e.delta, 1.0);
  EXPECT_EQ(e.offset, 0.0);
}

TEST(EncodingTest, RejectsSymmetricAtOneBitNamingTheQuantizer) {
  QSIM_EXPECT_THROW_MSG(check_bitwidth(1, Symmetry::symmetric, "layer.weight_quantizer"), ConfigError,
                        {"layer.weight_quantizer", "at least 2", "got 1"});
  QSIM_EXPECT_THROW_MSG(make_encoding(-1.0, 1.0, 1, Symmetry::strict_symmetric), ConfigError, {"got 1"});
  QSIM_EXPECT_THROW_MSG(make_encoding(-1.0, 1.0, 1, Symmetry::unsigned_symmetric), ConfigError,
                        {"signed", "got 1"});
}

TEST(EncodingTest, RejectsBitwidth0And33) {
  QSIM_EXPECT_THROW_MSG(check_bitwidth(0, Symmetry::asymmetric, "q"), ConfigError, {"[1, 32]", "got 0"});
  QSIM_EXPECT_THROW_MSG(make_encoding(-1.0, 1.0, 33, Symmetry::asymmetric), ConfigError, {"[1, 32]", "got 33"});
}

TEST(EncodingTest, RejectsMinAboveMax) {
  QSIM_EXPECT_THROW_MSG(make_encoding(1.0, -1.0, 8, Symmetry::asymmetric), ValueError, {"min must not exceed max"});
  QSIM_EXPECT_THROW_MSG(widen_range(2.0, 1.0), ValueError, {"[2, 1]"});
}

TEST(EncodingTest, RejectsNanAndInfRange) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  QSIM_EXPECT_THROW_MSG(make_encoding(nan, 1.0, 8, Symmetry::asymmetric), ValueError, {"finite", "nan"});
  QSIM_EXPECT_THROW_MSG(make_encoding(-1.0, inf, 8, Symmetry::symmetric), ValueError, {"finite", "inf"});
  QSIM_EXPECT_THROW_MSG(make_tf_encoding(-inf, 1.0, 8, Symmetry::asymmetric), ValueError, {"finite"});
}

TEST(EncodingTest, RejectsRangeWithoutZeroOrEmpty) {
  QSIM_EXPECT_THROW_MSG(make_encoding(0.5, 1.0, 8, Symmetry::asymmetric), ValueError, {"contain 0"});
  QSIM_EXPECT_THROW_MSG(make_encoding(0.0, 0.0, 8, Symmetry::asymmetric), ValueError, {"empty"});
}

TEST(EncodingTest, WidenRangeAddsZeroAndMinimumRange) {
  const Range a = widen_range(0.3, 0.5);
  EXPECT_EQ(a.min, 0.0);
  EXPECT_EQ(a.max, 0.5);
  const Range b = widen_range(0.0, 0.0);
  EXPECT_EQ(b.min, 0.0);
  EXPECT_EQ(b.max, kMinRange);
  const Range c = widen_range(-2.0, -1.0);
  EXPECT_EQ(c.min, -2.0);
  EXPECT_EQ(c.max, 0.0);
}

TEST(EncodingTest, TfEncodingOfConstantTensorUsesMinimumRange) {
  const Encoding e = make_tf_encoding(0.0, 0.0, 8, Symmetry::asymmetric);
  EXPECT_DOUBLE_EQ(e.delta, 0.01 / 255.0);
  EXPECT_EQ(e.offset, 0.0);
}

TEST(EncodingTest, ZeroPointIsExactGridPoint) {
  for (double lo : {-0.3, -1.7, -5.0}) {
    const Encoding e = make_encoding(lo, 2.9, 8, Symmetry::asymmetric);
    EXPECT_EQ(e.offset, std::round(e.offset));
    EXPECT_LE(e.offset, 0.0);
  }
}

TEST(EncodingTest, SymmetryNamesRoundTrip) {
  for (Symmetry s : {Symmetry::asymmetric, Symmetry::symmetric, Symmetry::strict_symmetric,
                     Symmetry::unsigned_symmetric}) {
    EXPECT_EQ(parse_symmetry(to_string(s)), s);
  }
  QSIM_EXPECT_THROW_MSG(parse_symmetry("signed"), ConfigError, {"'signed'", "asymmetric"});
}

}  // namespace
}  // namespace qsim::quant
