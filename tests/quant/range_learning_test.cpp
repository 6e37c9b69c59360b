#include "qsim/quant/range_learning.hpp"

#include <cmath>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace qsim::quant {
namespace {

RangeLearningOptions opts(Symmetry s, int b = 8, std::optional<int64_t> axis = std::nullopt) {
  RangeLearningOptions o;
  o.bitwidth = b;
  o.symmetry = s;
  o.channel_axis = axis;
  return o;
}

at::Tensor t1(float v) { return at::tensor({v}); }

TEST(RangeLearningTest, AsymmetricMinusOneOneHasNoStrictSpecialCase) {
  // §5.3: Δ = f32(2/255), o = −127 (1/Δ rounds to 127.49999 in float), 0.5 ↦ 0.50196081.
  const LearnedGridParams g = learned_grid_params(t1(-1), t1(1), 8, Symmetry::asymmetric);
  EXPECT_EQ(g.delta.item<float>(), 2.0f / 255.0f);
  EXPECT_EQ(g.offset.item<float>(), -127.0f);
  const float y = range_learning_quantize(at::tensor({0.5f}), t1(-1), t1(1), opts(Symmetry::asymmetric)).item<float>();
  EXPECT_NEAR(y, 0.50196081, 1e-7);
}

TEST(RangeLearningTest, Quirk1TiesRoundToEven) {
  // Δ = 1, o = 0: 2.5 → 2, 3.5 → 4, 0.5 → 0.
  const at::Tensor y =
      range_learning_quantize(at::tensor({0.5f, 2.5f, 3.5f}), t1(0), t1(255), opts(Symmetry::asymmetric));
  EXPECT_TRUE(at::equal(y, at::tensor({0.0f, 2.0f, 4.0f})));
}

TEST(RangeLearningTest, Quirk3IntegerClampAfterRounding) {
  const at::Tensor y = range_learning_quantize(at::tensor({1e4f, -1e4f}), t1(-128), t1(127), opts(Symmetry::asymmetric));
  EXPECT_TRUE(at::equal(y, at::tensor({127.0f, -128.0f})));
}

TEST(RangeLearningTest, Quirk5SignedSymmetricScaleIsAbsMaxOver127) {
  const double d0 = 0.01;
  const float m = static_cast<float>(-128 * d0), big_m = static_cast<float>(127 * d0);
  const LearnedGridParams g = learned_grid_params(t1(m), t1(big_m), 8, Symmetry::symmetric);
  EXPECT_EQ(g.delta.item<float>(), std::fabs(m) / 127.0f);  // 128/127 of the calibrated Δ
  EXPECT_EQ(g.offset.item<float>(), -128.0f);
  // The largest weight maps to code ±126, not ±127.
  const float y = range_learning_quantize(t1(big_m), t1(m), t1(big_m), opts(Symmetry::symmetric)).item<float>();
  EXPECT_EQ(y, 126.0f * g.delta.item<float>());
}

TEST(RangeLearningTest, StrictSymmetricUses2ToBMinus2Steps) {
  const LearnedGridParams g = learned_grid_params(t1(-1), t1(1), 8, Symmetry::strict_symmetric);
  EXPECT_EQ(g.steps, 254.0);
  EXPECT_EQ(g.delta.item<float>(), 1.0f / 127.0f);
  EXPECT_EQ(g.offset.item<float>(), -127.0f);
}

TEST(RangeLearningTest, Quirk7GatingInPlace) {
  at::Tensor m = at::tensor({0.5f, -1.0f, 0.0f}), big_m = at::tensor({2.0f, -0.5f, 0.0f});
  gate_learned_range_(m, big_m);
  EXPECT_TRUE(at::equal(m, at::tensor({0.0f, -1.0f, 0.0f})));
  EXPECT_TRUE(at::equal(big_m, at::tensor({2.0f, 0.0f, 1e-5f})));
}

TEST(RangeLearningTest, UnsignedModeOnlyWhenNoChannelIsSigned) {
  EXPECT_EQ(learned_mode(t1(0), t1(1), Symmetry::unsigned_symmetric), LearnedMode::unsigned_symmetric);
  EXPECT_EQ(learned_mode(t1(-1), t1(1), Symmetry::unsigned_symmetric), LearnedMode::signed_symmetric);
  EXPECT_EQ(learned_mode(at::tensor({0.0f, -1.0f}), at::tensor({1.0f, 1.0f}), Symmetry::unsigned_symmetric),
            LearnedMode::signed_symmetric);
  EXPECT_EQ(learned_mode(t1(0), t1(1), Symmetry::asymmetric), LearnedMode::asymmetric);
  const LearnedGridParams g = learned_grid_params(t1(0), t1(2.55f), 8, Symmetry::unsigned_symmetric);
  EXPECT_EQ(g.offset.item<float>(), 0.0f);
  EXPECT_EQ(g.delta.item<float>(), 2.55f / 255.0f);
}

// §5.4 written out independently in double from the float forward terms.
struct SpecGrads {
  std::vector<double> dmin, dmax;
};

SpecGrads spec_grads(const at::Tensor& x, const at::Tensor& g, const at::Tensor& mins, const at::Tensor& maxs,
                     int b, Symmetry sym, std::optional<int64_t> axis) {
  const LearnedMode mode = learned_mode(mins, maxs, sym);
  const LearnedGridParams grid = learned_grid_params(mins, maxs, b, sym);
  const int64_t channels = mins.numel();
  const int64_t a = axis ? (*axis < 0 ? *axis + x.dim() : *axis) : 0;
  SpecGrads out{std::vector<double>(channels), std::vector<double>(channels)};
  const double n = grid.steps;
  for (int64_t c = 0; c < channels; ++c) {
    const at::Tensor xs = axis ? x.select(a, c).reshape({-1}) : x.reshape({-1});
    const at::Tensor gs = axis ? g.select(a, c).reshape({-1}) : g.reshape({-1});
    const float d = grid.delta[c].item<float>(), o = grid.offset[c].item<float>();
    const double m = mins.reshape({-1})[c].item<float>(), big_m = maxs.reshape({-1})[c].item<float>();
    double sum_qo = 0, sum_q = 0, sum_kt = 0, sum_out = 0;
    for (int64_t i = 0; i < xs.numel(); ++i) {
      const float t = xs[i].item<float>() / d;
      const float r = std::nearbyint(t) - o;
      const float q = std::min(std::max(r, 0.0f), static_cast<float>(n));
      const double k = (r >= 0 && r <= n) ? 1.0 : 0.0;
      const double gi = gs[i].item<float>();
      sum_qo += (static_cast<double>(q) + o) * gi;
      sum_q += static_cast<double>(q) * gi;
      sum_kt += k * t * gi;
      sum_out += d * gi * (1 - k);
    }
    if (mode == LearnedMode::asymmetric) {
      const double t1v = (sum_qo - sum_kt) / n;
      const double t2v = n * sum_out / ((big_m - m) * (big_m - m));
      out.dmin[c] = -t1v + big_m * t2v;
      out.dmax[c] = t1v - m * t2v;
    } else if (mode == LearnedMode::signed_symmetric) {
      out.dmax[c] = (sum_qo - sum_kt) / std::floor(n / 2);
      out.dmin[c] = -out.dmax[c];
    } else {
      out.dmax[c] = (sum_q - sum_kt) / n;
    }
  }
  return out;
}

struct GradCase {
  Symmetry symmetry;
  std::optional<int64_t> axis;
  int bitwidth;
};

class RangeLearningGradTest : public testing::TestWithParam<GradCase> {};

TEST_P(RangeLearningGradTest, AutogradMatchesSpecFormulas) {
  const GradCase p = GetParam();
  at::manual_seed(11);
  const at::Tensor x = at::randn({4, 3, 50}) * 1.5 + 0.2;
  const at::Tensor g = at::randn({4, 3, 50});
  const int64_t channels = p.axis ? x.size(*p.axis < 0 ? *p.axis + 3 : *p.axis) : 1;
  const bool unsigned_case = p.symmetry == Symmetry::unsigned_symmetric;
  at::Tensor mins = unsigned_case ? at::zeros({channels}) : -(at::rand({channels}) + 0.5);
  at::Tensor maxs = at::rand({channels}) + 1.0;
  mins.set_requires_grad(true);
  maxs.set_requires_grad(true);
  const at::Tensor xg = x.clone().set_requires_grad(true);
  const at::Tensor y = range_learning_quantize(xg, mins, maxs, {p.bitwidth, p.symmetry, p.axis, ScaleMode::divide, {}});
  y.backward(g);
  const SpecGrads spec = spec_grads(x, g, mins.detach(), maxs.detach(), p.bitwidth, p.symmetry, p.axis);
  for (int64_t c = 0; c < channels; ++c) {
    const double scale = 1e-5 * (1.0 + std::fabs(spec.dmax[c]));
    EXPECT_NEAR(maxs.grad()[c].item<float>(), spec.dmax[c], scale) << "channel " << c;
    if (unsigned_case) continue;
    EXPECT_NEAR(mins.grad()[c].item<float>(), spec.dmin[c], 1e-5 * (1.0 + std::fabs(spec.dmin[c]))) << "channel " << c;
  }
  if (unsigned_case) {
    EXPECT_FALSE(mins.grad().defined()) << "unsigned symmetric gives min no gradient";
  }
  // Input gradient: g where the rounded code is in range.
  const LearnedGridParams grid = learned_grid_params(mins.detach(), maxs.detach(), p.bitwidth, p.symmetry);
  EXPECT_TRUE(at::equal(xg.grad(), fake_quantize_learned_backward(x, g, grid, p.axis, ScaleMode::divide, true).grad_input));
  EXPECT_TRUE(at::equal(y, fake_quantize_learned(x, grid, p.axis)));
}

INSTANTIATE_TEST_SUITE_P(
    Schemes, RangeLearningGradTest,
    testing::Values(GradCase{Symmetry::asymmetric, std::nullopt, 8}, GradCase{Symmetry::symmetric, std::nullopt, 8},
                    GradCase{Symmetry::unsigned_symmetric, std::nullopt, 8},
                    GradCase{Symmetry::strict_symmetric, std::nullopt, 4}, GradCase{Symmetry::asymmetric, 0, 8},
                    GradCase{Symmetry::asymmetric, 1, 2}, GradCase{Symmetry::symmetric, -1, 8},
                    GradCase{Symmetry::unsigned_symmetric, 1, 16}, GradCase{Symmetry::asymmetric, std::nullopt, 16}),
    [](const testing::TestParamInfo<GradCase>& info) {
      return std::string(to_string(info.param.symmetry)) + "_axis" +
             (info.param.axis ? std::to_string(*info.param.axis + 1) : std::string("none")) + "_bw" +
             std::to_string(info.param.bitwidth);
    });

// Where every input is clamped the loss is smooth in max: finite differences agree.
TEST(RangeLearningTest, MaxGradientMatchesFiniteDifferencesWhereSmooth) {
  at::manual_seed(2);
  const at::Tensor x = at::cat({at::rand({40}) * 3 + 5, -(at::rand({40}) * 3 + 5)}).to(at::kDouble).to(at::kFloat);
  const at::Tensor g = at::rand({80});
  for (Symmetry s : {Symmetry::symmetric, Symmetry::asymmetric}) {
    const float m = s == Symmetry::asymmetric ? 0.0f : -1.5f;
    const float big_m = 2.0f;
    const auto loss = [&](float hi) {
      return (range_learning_quantize(x, t1(m), t1(hi), opts(s)).to(at::kDouble) * g.to(at::kDouble)).sum().item<double>();
    };
    const RangeLearningGrads grads = range_learning_backward(x, g, t1(m), t1(big_m), opts(s));
    const float h = 1e-2f;
    const double fd = (loss(big_m + h) - loss(big_m - h)) / (2.0 * h);
    EXPECT_NEAR(grads.grad_max.item<float>(), fd, 2e-3 * (1 + std::fabs(fd))) << to_string(s);
  }
}

TEST(RangeLearningTest, GradientSumsDoNotDependOnThreadCount) {
  at::manual_seed(4);
  const at::Tensor x = at::randn({300001});
  const at::Tensor g = at::randn({300001});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const RangeLearningGrads one = range_learning_backward(x, g, t1(-1), t1(2), opts(Symmetry::asymmetric));
  at::set_num_threads(2);
  const RangeLearningGrads two = range_learning_backward(x, g, t1(-1), t1(2), opts(Symmetry::asymmetric));
  at::set_num_threads(threads);
  EXPECT_EQ(one.grad_min.item<float>(), two.grad_min.item<float>());
  EXPECT_EQ(one.grad_max.item<float>(), two.grad_max.item<float>());
  EXPECT_TRUE(at::equal(one.grad_input, two.grad_input));
}

TEST(RangeLearningTest, RejectsBadRangesAndBitwidths) {
  const at::Tensor x = at::ones({3});
  QSIM_EXPECT_THROW_MSG(range_learning_quantize(x, t1(1), t1(-1), opts(Symmetry::asymmetric)), ValueError,
                        {"min must not exceed max"});
  QSIM_EXPECT_THROW_MSG(range_learning_quantize(x, t1(NAN), t1(1), opts(Symmetry::asymmetric)), ValueError, {"finite"});
  QSIM_EXPECT_THROW_MSG(range_learning_quantize(x, t1(-1), t1(1), opts(Symmetry::asymmetric, 33)), ConfigError,
                        {"got 33"});
  QSIM_EXPECT_THROW_MSG(range_learning_quantize(x, t1(-1), t1(1), opts(Symmetry::symmetric, 1)), ConfigError,
                        {"at least 2"});
  QSIM_EXPECT_THROW_MSG(range_learning_quantize(x, t1(-1), t1(1), opts(Symmetry::asymmetric, 8, 0)), ValueError,
                        {"1 encodings for 3 channels"});
  QSIM_EXPECT_THROW_MSG(range_learning_quantize(x.to(at::kDouble), t1(-1), t1(1), opts(Symmetry::asymmetric)),
                        ValueError, {"dtype"});
  QSIM_EXPECT_THROW_MSG(range_learning_quantize(x, t1(0), t1(0), opts(Symmetry::asymmetric)), ValueError,
                        {"gate it first"});
}

}  // namespace
}  // namespace qsim::quant
