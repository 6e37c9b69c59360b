#include "qsim/quant/static_grid.hpp"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/types.h>

#include "qsim/error.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "support/expect_error.hpp"

namespace qsim::quant {
namespace {

Encoding range(double min, double max, int bitwidth = 8) { return Encoding{bitwidth, min, max, 0.0, 0.0}; }

// The spec's static kernel (§2) written out independently, per element, in float.
float spec_static(float x, const Encoding& e) {
  double lo = std::min(e.min, 0.0), hi = std::max(e.max, 0.0);
  hi = std::max(hi, lo + 1e-5);
  double n = std::pow(2.0, e.bitwidth) - 1.0;
  if (lo == -hi) n -= 1.0;
  const double d = (hi - lo) / n;
  const double o = std::round(lo / d);
  const float lo_f = static_cast<float>(lo), hi_f = static_cast<float>(hi);
  const float d_f = static_cast<float>(d), o_f = static_cast<float>(o);
  const float c = std::min(std::max(x, lo_f), hi_f);
  return d_f * (std::round(c / d_f - o_f) + o_f);
}

at::Tensor sample(int64_t n, double scale, uint64_t seed = 7) {
  at::manual_seed(seed);
  return at::randn({n}) * scale;
}

TEST(StaticGridTest, ParamsRebuiltFromMinMaxIgnoringStoredDeltaOffset) {
  Encoding e = range(-1.0, 3.0);
  e.delta = 123.0;
  e.offset = 7.0;
  const StaticGridParams p = static_grid_params(e);
  EXPECT_EQ(p.steps, 255.0);
  EXPECT_EQ(p.delta, 4.0 / 255.0);
  EXPECT_EQ(p.offset, std::round(-1.0 / (4.0 / 255.0)));
}

TEST(StaticGridTest, Quirk2MinEqualsMinusMaxUsesStrictSteps) {
  const StaticGridParams p = static_grid_params(range(-1.0, 1.0));
  EXPECT_EQ(p.steps, 254.0);
  EXPECT_EQ(p.offset, -127.0);
  const float y = fake_quantize_static(at::tensor({0.5f}), range(-1.0, 1.0)).item<float>();
  EXPECT_NEAR(y, 0.503937, 1e-6);
  EXPECT_EQ(y, spec_static(0.5f, range(-1.0, 1.0)));
}

TEST(StaticGridTest, SignedSymmetricGridEncodingKeeps255Steps) {
  const Encoding e = make_encoding(-1.0, 1.0, 8, Symmetry::symmetric);
  const StaticGridParams p = static_grid_params(e);
  EXPECT_EQ(p.steps, 255.0);
  EXPECT_EQ(p.offset, -128.0);
  EXPECT_DOUBLE_EQ(p.delta, e.delta);
}

TEST(StaticGridTest, GateWidensDegenerateRange) {
  const StaticGridParams p = static_grid_params(range(0.0, 0.0));
  EXPECT_EQ(p.lo, 0.0);
  EXPECT_EQ(p.hi, 1e-5);
}

TEST(StaticGridTest, Quirk1TiesRoundAwayFromZero) {
  const Encoding e = range(0.0, 255.0);  // Δ = 1, o = 0
  const at::Tensor y = fake_quantize_static(at::tensor({0.5f, 1.5f, 2.5f, 3.5f}), e);
  EXPECT_TRUE(at::equal(y, at::tensor({1.0f, 2.0f, 3.0f, 4.0f})));
  // Ties are on the code t = x/Δ − o, which is never negative: with o = −128,
  // −2.5 is t = 125.5 → 126 → −2 and −0.5 is t = 127.5 → 128 → 0.
  const Encoding s = range(-128.0, 127.0);
  EXPECT_TRUE(at::equal(fake_quantize_static(at::tensor({-2.5f, -0.5f}), s), at::tensor({-2.0f, 0.0f})));
}

TEST(StaticGridTest, Quirk3NoIntegerClampGivesCode256) {
  const Encoding e = range(-126.5, 128.5);  // Δ = 1, o = −127
  const at::Tensor x = at::tensor({128.5f, 1000.0f, -1000.0f});
  EXPECT_TRUE(at::equal(fake_quantize_static(x, e), at::tensor({129.0f, 129.0f, -126.0f})));
  EXPECT_TRUE(at::equal(quantize_static(x, {e}, std::nullopt, Symmetry::asymmetric), at::tensor({256.0f, 256.0f, 1.0f})));
}

TEST(StaticGridTest, Quirk3SteZeroesGradientWhereOutputLeavesTheRange) {
  const Encoding e = range(-126.5, 128.5);
  const at::Tensor x = at::tensor({128.5f, 3.0f, -500.0f}).set_requires_grad(true);
  const at::Tensor y = fake_quantize_static(x, e);
  y.backward(at::tensor({2.0f, 3.0f, -4.0f}));
  // y = 129 > max: zero; clipped −500 → −126 ≥ min: passes (clipped inputs keep their gradient).
  EXPECT_TRUE(at::equal(x.grad(), at::tensor({0.0f, 3.0f, -4.0f})));
}

TEST(StaticGridTest, SignedCodesForSymmetricWithNegativeOffset) {
  const Encoding e = make_encoding(-1.0, 1.0, 8, Symmetry::symmetric);
  const at::Tensor x = at::tensor({-2.0f, 0.0f, 1.0f});
  EXPECT_TRUE(at::equal(quantize_static(x, {e}, std::nullopt, Symmetry::symmetric), at::tensor({-128.0f, 0.0f, 127.0f})));
  EXPECT_TRUE(at::equal(quantize_static(x, {e}, std::nullopt, Symmetry::asymmetric), at::tensor({0.0f, 128.0f, 255.0f})));
  const Encoding u = make_encoding(0.0, 1.0, 8, Symmetry::unsigned_symmetric);
  EXPECT_EQ(quantize_static(at::tensor({1.0f}), {u}, std::nullopt, Symmetry::unsigned_symmetric).item<float>(), 255.0f);
}

TEST(StaticGridTest, DequantizeInvertsQuantize) {
  for (Symmetry s : {Symmetry::asymmetric, Symmetry::symmetric}) {
    const Encoding e = make_encoding(-0.7, 1.9, 8, s);
    const at::Tensor x = sample(1000, 1.0);
    const at::Tensor codes = quantize_static(x, {e}, std::nullopt, s);
    EXPECT_TRUE(at::equal(dequantize_static(codes, {e}, std::nullopt, s), fake_quantize_static(x, e)));
  }
}

TEST(StaticGridTest, MatchesSpecAtBitwidthEdges) {
  const at::Tensor x = sample(4099, 2.0);
  for (int b : {1, 2, 8, 16, 31, 32}) {
    for (const Encoding& e : {range(-1.3, 2.1, b), range(0.0, 3.0, b), range(-2.0, 2.0 + (b == 1 ? 1.0 : 0.0), b)}) {
      SCOPED_TRACE(testing::Message() << "bitwidth " << b << " [" << e.min << ", " << e.max << "]");
      const at::Tensor y = fake_quantize_static(x, e);
      for (int64_t i = 0; i < x.numel(); ++i) {
        ASSERT_EQ(y[i].item<float>(), spec_static(x[i].item<float>(), e)) << "element " << i;
      }
    }
  }
}

TEST(StaticGridTest, PerChannelMatchesPerTensorSlicesOnEveryAxis) {
  at::manual_seed(3);
  const at::Tensor x = at::randn({3, 4, 5}) * 2;
  for (int64_t axis : {0, 1, 2, -1}) {
    const int64_t a = axis < 0 ? axis + 3 : axis;
    std::vector<Encoding> encs;
    for (int64_t c = 0; c < x.size(a); ++c) encs.push_back(range(-0.5 - 0.3 * c, 0.8 + 0.5 * c));
    const at::Tensor y = fake_quantize_static(x, encs, axis);
    for (int64_t c = 0; c < x.size(a); ++c) {
      EXPECT_TRUE(at::equal(y.select(a, c), fake_quantize_static(x.select(a, c).contiguous(), encs[c])))
          << "axis " << axis << " channel " << c;
    }
  }
}

TEST(StaticGridTest, NonContiguousInputAndPreallocatedOutput) {
  at::manual_seed(5);
  const at::Tensor x = at::randn({6, 9}).t();
  const Encoding e = range(-1.0, 2.0);
  at::Tensor out = at::empty({9, 6});
  fake_quantize_static_out(x, {e}, std::nullopt, out);
  EXPECT_TRUE(at::equal(out, fake_quantize_static(x.contiguous(), e)));
}

TEST(StaticGridTest, HalfAndBfloat16ComputedInFloat) {
  const at::Tensor x = sample(257, 1.5);
  const Encoding e = range(-1.0, 2.0);
  for (auto type : {at::kHalf, at::kBFloat16}) {
    const at::Tensor xt = x.to(type);
    const at::Tensor y = fake_quantize_static(xt, e);
    EXPECT_EQ(y.scalar_type(), type);
    EXPECT_TRUE(at::equal(y, fake_quantize_static(xt.to(at::kFloat), e).to(type)));
  }
}

TEST(StaticGridTest, NanInputStaysNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(fake_quantize_static(at::tensor({nan}), range(-1.0, 1.0)).item<float>()));
}

TEST(StaticGridTest, EmptyTensorGivesEmptyResult) {
  const at::Tensor y = fake_quantize_static(at::empty({0, 3}), range(-1.0, 1.0));
  EXPECT_EQ(y.sizes(), at::IntArrayRef({0, 3}));
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(at::empty({0}), range(1.0, -1.0)), ValueError, {"min must not exceed max"});
}

TEST(StaticGridTest, RejectsBadBitwidthRangeAndDtype) {
  const at::Tensor x = at::ones({4});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, range(-1, 1, 0)), ConfigError, {"fake_quantize_static", "got 0"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, range(-1, 1, 33)), ConfigError, {"got 33"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, range(2, 1)), ValueError, {"[2, 1]"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, range(std::nan(""), 1)), ValueError, {"finite"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, range(-1, INFINITY)), ValueError, {"finite", "inf"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x.to(at::kDouble), range(-1, 1)), ValueError, {"dtype", "Double"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x.to(at::kInt), range(-1, 1)), ValueError, {"dtype", "Int"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, range(-1, 1, 1)), ValueError, {"1-bit", "min == -max"});
}

TEST(StaticGridTest, RejectsAxisOutOfRangeAndCountMismatch) {
  const at::Tensor x = at::ones({2, 3});
  const std::vector<Encoding> three(3, range(-1, 1));
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, three, 2), ValueError, {"axis 2", "2-d"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, three, -3), ValueError, {"axis -3"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, three, 0), ValueError, {"3 encodings for 2 channels"});
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, three, std::nullopt), ValueError, {"per-tensor", "got 3"});
  std::vector<Encoding> bad = three;
  bad[2] = range(1, 0);
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, bad, 1), ValueError, {"channel 2"});
}

}  // namespace
}  // namespace qsim::quant
