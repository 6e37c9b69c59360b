// AdaRound's element-wise kernels (kernels/cpu/adaround.hpp) against a double-
// precision reference of the formulas: initialisation, soft and hard weights, and
// the fused gradient + Adam step, per tensor and per row.
#include "kernels/cpu/adaround.hpp"

#include "kernels/cpu/fake_quant_cpu.hpp"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace qsim::kernels::cpu {
namespace {

constexpr double kZeta = 1.1, kGamma = -0.1;

struct Case {
  int64_t rows = 5, cols = 21;  // two AVX2 vectors and a tail per row
  std::vector<AdaroundGrid> grids;
  bool per_row = false;
  std::vector<float> w, base, v, sigma, soft, a;

  explicit Case(bool per_row_grid, unsigned seed = 3) : per_row(per_row_grid) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int64_t r = 0; r < (per_row ? rows : 1); ++r) grids.push_back({0.05f + 0.01f * static_cast<float>(r), -8.0f, 7.0f});
    for (int64_t i = 0; i < rows * cols; ++i) w.push_back(0.3f * u(gen));
    base.resize(w.size());
    v.resize(w.size());
    sigma.resize(w.size());
    soft.resize(w.size());
    a.resize(w.size());
  }
  AdaroundRows layout() const { return {rows, cols, grids.data(), per_row}; }
  const AdaroundGrid& grid(int64_t i) const { return grids[per_row ? static_cast<std::size_t>(i / cols) : 0]; }
  void sigmoid() {
    for (std::size_t i = 0; i < v.size(); ++i) sigma[i] = static_cast<float>(1.0 / (1.0 + std::exp(-double(v[i]))));
  }
};

TEST(AdaroundKernelTest, InitialisationMakesTheSoftWeightTheFloatWeight) {
  for (const bool per_row : {false, true}) {
    Case c(per_row);
    adaround_init(c.layout(), c.w.data(), c.base.data(), c.v.data());
    c.sigmoid();
    adaround_soft_weight(c.layout(), c.sigma.data(), c.base.data(), c.soft.data(), c.a.data());
    for (std::size_t i = 0; i < c.w.size(); ++i) {
      const double delta = c.grid(static_cast<int64_t>(i)).delta;
      EXPECT_EQ(c.base[i], std::floor(c.w[i] / static_cast<float>(delta)));
      EXPECT_NEAR(c.soft[i], c.w[i], 1e-5 * delta) << i;
    }
  }
}

TEST(AdaroundKernelTest, SoftAndHardWeightsFollowTheFormulas) {
  for (const bool per_row : {false, true}) {
    Case c(per_row, 5);
    std::mt19937 gen(9);
    std::normal_distribution<float> n(0.0f, 3.0f);
    for (std::size_t i = 0; i < c.v.size(); ++i) {
      c.base[i] = std::floor(c.w[i] / c.grid(static_cast<int64_t>(i)).delta);
      c.v[i] = n(gen);
    }
    c.base[0] = 7.0f;  // base + h above code_max: clamped
    c.sigmoid();
    adaround_soft_weight(c.layout(), c.sigma.data(), c.base.data(), c.soft.data(), c.a.data());
    std::vector<float> hard(c.w.size());
    adaround_hard_weight(c.layout(), c.v.data(), c.base.data(), hard.data());
    for (std::size_t i = 0; i < c.w.size(); ++i) {
      const AdaroundGrid g = c.grid(static_cast<int64_t>(i));
      const double h = std::min(1.0, std::max(0.0, double(c.sigma[i]) * (kZeta - kGamma) + kGamma));
      const double code = std::min<double>(g.code_max, std::max<double>(g.code_min, c.base[i] + h));
      EXPECT_NEAR(c.soft[i], g.delta * code, 1e-6) << i;
      EXPECT_NEAR(c.a[i], std::fabs(2.0 * h - 1.0), 1e-6) << i;
      const double hard_code = std::min<double>(g.code_max, std::max<double>(g.code_min, c.base[i] + (c.v[i] >= 0)));
      EXPECT_EQ(hard[i], static_cast<float>(g.delta * hard_code)) << i;
    }
    EXPECT_EQ(c.soft[0], c.grid(0).delta * 7.0f) << "clamped to code_max";
  }
}

// One step of the reference: dL/dV through h and the clamps, plus λ·d(reg)/dV, then Adam.
void reference_step(const Case& c, const std::vector<float>& grad_w, const std::vector<float>& a_pow, double lambda,
                    double beta, int t, std::vector<double>& v, std::vector<double>& m, std::vector<double>& s) {
  const double b1 = 0.9, b2 = 0.999, lr = 1e-2, eps = 1e-8;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const AdaroundGrid g = c.grid(static_cast<int64_t>(i));
    const double sig = c.sigma[i];
    const double raw = sig * (kZeta - kGamma) + kGamma;
    const double h = std::min(1.0, std::max(0.0, raw));
    const double dh_dv = (raw > 0 && raw < 1) ? (kZeta - kGamma) * sig * (1 - sig) : 0.0;
    const double code = c.base[i] + h;
    double dh = grad_w[i] * ((code > g.code_min && code < g.code_max) ? g.delta : 0.0);
    if (lambda > 0) dh += lambda * -2.0 * beta * a_pow[i] * (2 * h - 1 >= 0 ? 1.0 : -1.0);
    const double grad = dh * dh_dv;
    m[i] = b1 * m[i] + (1 - b1) * grad;
    s[i] = b2 * s[i] + (1 - b2) * grad * grad;
    v[i] -= lr / (1 - std::pow(b1, t)) * m[i] / (std::sqrt(s[i]) / std::sqrt(1 - std::pow(b2, t)) + eps);
  }
}

TEST(AdaroundKernelTest, AdamStepMatchesTheReferenceWithAndWithoutTheRegularizer) {
  for (const bool per_row : {false, true}) {
    for (const double lambda : {0.0, 0.5}) {
      SCOPED_TRACE(::testing::Message() << "per_row " << per_row << " lambda " << lambda);
      Case c(per_row, 11);
      adaround_init(c.layout(), c.w.data(), c.base.data(), c.v.data());
      std::vector<double> v(c.v.begin(), c.v.end()), m(c.v.size(), 0.0), s(c.v.size(), 0.0);
      std::vector<float> mf(c.v.size(), 0.0f), sf(c.v.size(), 0.0f);
      std::mt19937 gen(2);
      std::normal_distribution<float> n(0.0f, 1.0f);
      const double beta = 7.5;
      for (int t = 1; t <= 4; ++t) {
        c.sigmoid();
        adaround_soft_weight(c.layout(), c.sigma.data(), c.base.data(), c.soft.data(), c.a.data());
        std::vector<float> grad_w(c.v.size()), a_pow(c.v.size());
        double reg = 0.0;
        for (std::size_t i = 0; i < c.v.size(); ++i) {
          grad_w[i] = n(gen);
          a_pow[i] = std::pow(c.a[i], static_cast<float>(beta - 1.0));
          reg += 1.0 - double(c.a[i]) * a_pow[i];
        }
        reference_step(c, grad_w, a_pow, lambda, beta, t, v, m, s);
        const AdamStep adam{1e-2f, 0.9f, 0.999f, 1e-8f, static_cast<float>(1 - std::pow(0.9, t)),
                            static_cast<float>(std::sqrt(1 - std::pow(0.999, t)))};
        const double got = adaround_adam_step(c.layout(), grad_w.data(), c.sigma.data(), c.base.data(), c.a.data(),
                                              a_pow.data(), static_cast<float>(lambda), static_cast<float>(beta), adam,
                                              c.v.data(), mf.data(), sf.data());
        EXPECT_NEAR(got, lambda > 0 ? reg : 0.0, 1e-4);
        for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(c.v[i], v[i], 1e-4 * (1.0 + std::fabs(v[i]))) << i;
        for (std::size_t i = 0; i < v.size(); ++i) c.v[i] = static_cast<float>(v[i]);  // no drift between the two
      }
    }
  }
}

// The AVX2 path (where the CPU has it) gives the scalar path's results bit for bit,
// the regularizer's sum included.
TEST(AdaroundKernelTest, Avx2AndScalarPathsAgreeExactly) {
  for (const bool per_row : {false, true}) {
    Case c(per_row, 17);
    adaround_init(c.layout(), c.w.data(), c.base.data(), c.v.data());
    std::mt19937 gen(5);
    std::normal_distribution<float> n(0.0f, 2.0f);
    for (float& x : c.v) x += n(gen);
    c.sigmoid();
    std::vector<float> grad_w(c.v.size()), a_pow(c.v.size());
    for (float& g : grad_w) g = n(gen);
    const AdamStep adam{1e-3f, 0.9f, 0.999f, 1e-8f, 0.271f, 0.0547f};
    struct Out {
      std::vector<float> soft, a, v, m, s;
      double reg;
    };
    const auto run = [&](bool avx2) {
      set_avx2_enabled(avx2);
      Out o{std::vector<float>(c.v.size()), std::vector<float>(c.v.size()), c.v, std::vector<float>(c.v.size(), 0.1f),
            std::vector<float>(c.v.size(), 0.01f), 0.0};
      adaround_soft_weight(c.layout(), c.sigma.data(), c.base.data(), o.soft.data(), o.a.data());
      for (std::size_t i = 0; i < a_pow.size(); ++i) a_pow[i] = std::pow(o.a[i], 4.5f);
      o.reg = adaround_adam_step(c.layout(), grad_w.data(), c.sigma.data(), c.base.data(), o.a.data(), a_pow.data(),
                                 0.01f, 5.5f, adam, o.v.data(), o.m.data(), o.s.data());
      set_avx2_enabled(true);
      return o;
    };
    const Out scalar = run(false), vector = run(true);
    EXPECT_EQ(scalar.soft, vector.soft);
    EXPECT_EQ(scalar.a, vector.a);
    EXPECT_EQ(scalar.v, vector.v);
    EXPECT_EQ(scalar.m, vector.m);
    EXPECT_EQ(scalar.s, vector.s);
    EXPECT_EQ(scalar.reg, vector.reg);
  }
}

}  // namespace
}  // namespace qsim::kernels::cpu
