// kernels/cpu fake-quant loops against the scalar reference of
// kernels/fake_quant_scalar.hpp: bit-exact forward and STE mask on every layout
// (per tensor, channels with inner runs, channels innermost), every split of the
// range, with AVX2 on and off; backward sums against a double reference.
#include "kernels/cpu/fake_quant_cpu.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/fake_quant_scalar.hpp"

namespace qsim::kernels::cpu {
namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

TEST(RoundingTest, RoundAwayIsRoundfEverywhere) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> wide(-1e4f, 1e4f);
  std::vector<float> values{0.0f, -0.0f, 0.5f, -0.5f, 1.5f, -2.5f, 0.49999997f, -0.49999997f, 8388607.5f,
                            8388608.0f, 1e30f, -1e30f, std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  for (int i = 0; i < 100000; ++i) values.push_back(wide(rng));
  for (int i = -2000; i <= 2000; ++i) values.push_back(static_cast<float>(i) * 0.25f);
  for (float v : values) EXPECT_TRUE(same_bits(round_away(v), std::round(v))) << v;
  EXPECT_TRUE(std::isnan(round_away(std::numeric_limits<float>::quiet_NaN())));
}

TEST(RoundingTest, RoundEvenTiesToEven) {
  EXPECT_EQ(round_even(2.5f), 2.0f);
  EXPECT_EQ(round_even(3.5f), 4.0f);
  EXPECT_EQ(round_even(-2.5f), -2.0f);
  EXPECT_EQ(round_away(2.5f), 3.0f);
}

enum class Path { scalar, avx2, avx512 };

const char* path_name(Path p) { return p == Path::scalar ? "scalar" : p == Path::avx2 ? "avx2" : "avx512"; }

bool cpu_has_avx512f() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

struct LayoutCase {
  int64_t outer, channels, inner;
  Path path;
};

std::string case_name(const testing::TestParamInfo<LayoutCase>& info) {
  const LayoutCase& c = info.param;
  return "outer" + std::to_string(c.outer) + "_channels" + std::to_string(c.channels) + "_inner" +
         std::to_string(c.inner) + "_" + path_name(c.path);
}

class FakeQuantCpuTest : public testing::TestWithParam<LayoutCase> {
 protected:
  void SetUp() override {
    const LayoutCase& c = GetParam();
    if (c.path == Path::avx512 && !cpu_has_avx512f()) GTEST_SKIP() << "this CPU has no AVX-512F";
    set_avx2_enabled(c.path != Path::scalar);
    set_avx512_enabled(c.path == Path::avx512);
    layout_ = {c.channels, c.inner};
    n_ = c.outer * c.channels * c.inner;
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    x_.resize(n_);
    g_.resize(n_);
    for (auto& v : x_) v = normal(rng);
    for (auto& v : g_) v = normal(rng);
    // Exact ties, signed zeros, far values and NaN exercise every branch.
    const float specials[] = {0.5f, -0.5f, 2.5f, -0.0f, 0.0f, 1e9f, -1e9f, std::numeric_limits<float>::quiet_NaN()};
    for (int64_t i = 0; i < n_; i += 7) x_[i] = specials[(i / 7) % 8] * (1.0f + static_cast<float>(i % 3));
    for (int64_t ch = 0; ch < c.channels; ++ch) {
      const float lo = -0.5f - 0.25f * static_cast<float>(ch % 5);
      const float hi = 1.0f + 0.5f * static_cast<float>(ch % 3);
      lo_.push_back(lo);
      hi_.push_back(hi);
      delta_.push_back((hi - lo) / 255.0f);
      offset_.push_back(std::round(lo / delta_.back()));
      inv_delta_.push_back(1.0f / delta_.back());
      shift_.push_back(ch % 2 == 0 ? 128.0f : 0.0f);
    }
  }
  void TearDown() override {
    set_avx2_enabled(true);
    set_avx512_enabled(true);
  }

  int64_t channel(int64_t i) const { return (i / layout_.inner) % layout_.channels; }
  StaticGrid static_grid() const { return {lo_.data(), hi_.data(), delta_.data(), offset_.data()}; }
  LearnedGrid learned_grid(bool multiply) const {
    return {delta_.data(), inv_delta_.data(), offset_.data(), 255.0f, multiply};
  }
  // Runs fn over [0, n) split at awkward points, so every chunk boundary is covered.
  template <typename Fn>
  void split(const Fn& fn) const {
    const int64_t cut1 = n_ / 3 + 1, cut2 = std::max(cut1, n_ - 5);
    fn(0, std::min(cut1, n_));
    fn(std::min(cut1, n_), cut2);
    fn(cut2, n_);
  }

  ChannelLayout layout_;
  int64_t n_ = 0;
  std::vector<float> x_, g_, lo_, hi_, delta_, offset_, inv_delta_, shift_;
};

TEST_P(FakeQuantCpuTest, StaticForwardIsBitExact) {
  std::vector<float> y(n_);
  split([&](int64_t b, int64_t e) { static_forward(x_.data(), y.data(), b, e, layout_, static_grid()); });
  for (int64_t i = 0; i < n_; ++i) {
    const int64_t c = channel(i);
    ASSERT_TRUE(same_bits(y[i], static_qdq(x_[i], lo_[c], hi_[c], delta_[c], offset_[c]))) << "element " << i;
  }
}

TEST_P(FakeQuantCpuTest, StaticCodesAreBitExact) {
  std::vector<float> y(n_);
  split([&](int64_t b, int64_t e) { static_codes(x_.data(), y.data(), b, e, layout_, static_grid(), shift_.data()); });
  for (int64_t i = 0; i < n_; ++i) {
    const int64_t c = channel(i);
    ASSERT_TRUE(same_bits(y[i], static_code(x_[i], lo_[c], hi_[c], delta_[c], offset_[c]) - shift_[c])) << i;
  }
}

TEST_P(FakeQuantCpuTest, SteBackwardIsTheMask) {
  std::vector<float> gi(n_);
  split([&](int64_t b, int64_t e) {
    static_ste_backward(x_.data(), g_.data(), gi.data(), b, e, layout_, lo_.data(), hi_.data());
  });
  for (int64_t i = 0; i < n_; ++i) {
    const int64_t c = channel(i);
    const bool inside = x_[i] >= lo_[c] && x_[i] <= hi_[c];
    ASSERT_TRUE(same_bits(gi[i], g_[i] * (inside ? 1.0f : 0.0f))) << i;
  }
}

TEST_P(FakeQuantCpuTest, LearnedForwardIsBitExactInBothScaleModes) {
  for (bool multiply : {false, true}) {
    std::vector<float> y(n_);
    split([&](int64_t b, int64_t e) { learned_forward(x_.data(), y.data(), b, e, layout_, learned_grid(multiply)); });
    for (int64_t i = 0; i < n_; ++i) {
      const int64_t c = channel(i);
      const LearnedElement ref = learned_element(x_[i], delta_[c], inv_delta_[c], offset_[c], 255.0f, multiply);
      ASSERT_TRUE(same_bits(y[i], ref.y)) << "element " << i << " multiply " << multiply;
    }
  }
}

TEST_P(FakeQuantCpuTest, LearnedBackwardGradInputExactAndSumsMatchDoubleReference) {
  // NaN inputs would poison the sums: use finite inputs here.
  for (auto& v : x_) {
    if (std::isnan(v)) v = 0.25f;
  }
  for (bool offset_in_sum : {true, false}) {
    std::vector<float> gi(n_);
    std::vector<double> s(layout_.channels, 0.0), z(layout_.channels, 0.0);
    split([&](int64_t b, int64_t e) {
      learned_backward(x_.data(), g_.data(), gi.data(), b, e, layout_, learned_grid(false), offset_in_sum, s.data(),
                       z.data());
    });
    std::vector<double> s_ref(layout_.channels, 0.0), z_ref(layout_.channels, 0.0), abs_ref(layout_.channels, 0.0);
    for (int64_t i = 0; i < n_; ++i) {
      const int64_t c = channel(i);
      const LearnedElement e = learned_element(x_[i], delta_[c], inv_delta_[c], offset_[c], 255.0f, false);
      ASSERT_TRUE(same_bits(gi[i], g_[i] * e.k)) << i;
      const double term = (static_cast<double>(e.q) + (offset_in_sum ? offset_[c] : 0.0f) - e.k * static_cast<double>(e.t)) * g_[i];
      s_ref[c] += term;
      abs_ref[c] += std::fabs(term) + std::fabs(g_[i]);
      z_ref[c] += (1.0 - e.k) * g_[i];
    }
    for (int64_t c = 0; c < layout_.channels; ++c) {
      EXPECT_NEAR(s[c], s_ref[c], 1e-12 * abs_ref[c] + 1e-300) << "channel " << c;
      EXPECT_NEAR(z[c], z_ref[c], 1e-12 * abs_ref[c] + 1e-300) << "channel " << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, FakeQuantCpuTest,
                         testing::Values(LayoutCase{1, 1, 1, Path::avx2}, LayoutCase{1, 1, 1000, Path::avx2},
                                         LayoutCase{1, 1, 1000, Path::scalar}, LayoutCase{3, 5, 37, Path::avx2},
                                         LayoutCase{3, 5, 37, Path::scalar}, LayoutCase{4, 19, 1, Path::avx2},
                                         LayoutCase{4, 19, 1, Path::scalar}, LayoutCase{2, 3, 3, Path::avx2},
                                         LayoutCase{7, 16, 1, Path::avx2}, LayoutCase{1, 8, 64, Path::avx2},
                                         // 16-lane loops: whole vectors, masked tails (1000 = 62·16 + 8,
                                         // 37, 3), one element, and channels innermost (parameters per
                                         // lane: fewer than 16 channels, exactly 16, 40 = 2·16 + 8).
                                         LayoutCase{1, 1, 1, Path::avx512}, LayoutCase{1, 1, 1000, Path::avx512},
                                         LayoutCase{3, 5, 37, Path::avx512}, LayoutCase{2, 3, 3, Path::avx512},
                                         LayoutCase{1, 8, 64, Path::avx512}, LayoutCase{4, 19, 1, Path::avx512},
                                         LayoutCase{7, 16, 1, Path::avx512}, LayoutCase{3, 40, 1, Path::avx512}),
                         case_name);

// An encoding whose min lies more than half a step below Δ·o (possible in a file,
// never from the analyzers) gives codes below −0.5, which round away to −1, −2, …;
// the vector loops' shorter rounding for grids without such codes must not be taken.
// A negative Δ (no analyzer makes one) reverses the order: lo then gives the
// largest t, and the short form must not be taken either.
TEST(FakeQuantCpuEdgeTest, CodesBelowMinusHalfRoundAwayOnEveryPath) {
  struct Case {
    float lo, hi, delta, offset;
  };
  for (const Case& g : {Case{-10.0f, 10.0f, 0.1f, -50.0f}, Case{-10.0f, 10.0f, -0.1f, 0.0f}}) {
    const StaticGrid grid{&g.lo, &g.hi, &g.delta, &g.offset};
    std::vector<float> x;
    for (int i = -1300; i <= 1300; ++i) x.push_back(static_cast<float>(i) * 0.00773f);
    for (int i = -120; i <= 120; ++i) x.push_back((static_cast<float>(i) + 0.5f) * g.delta);  // ties
    std::vector<float> y(x.size());
    const auto n = static_cast<int64_t>(x.size());
    for (const Path path : {Path::scalar, Path::avx2, Path::avx512}) {
      if (path == Path::avx512 && !cpu_has_avx512f()) continue;
      set_avx2_enabled(path != Path::scalar);
      set_avx512_enabled(path == Path::avx512);
      static_forward(x.data(), y.data(), 0, n, {}, grid);
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_TRUE(same_bits(y[i], static_qdq(x[i], g.lo, g.hi, g.delta, g.offset)))
            << path_name(path) << " delta " << g.delta << " x " << x[i];
      }
    }
  }
  set_avx2_enabled(true);
  set_avx512_enabled(true);
}

TEST(FakeQuantCpuEdgeTest, Quirk3OutOfGridCode256) {
  // min = −126.5, max = 128.5 → Δ = 1, o = −127; x = 128.5 → t = 255.5 → 256.
  const float lo = -126.5f, hi = 128.5f, delta = 1.0f, offset = -127.0f, shift = 0.0f;
  const StaticGrid grid{&lo, &hi, &delta, &offset};
  std::vector<float> x(20, 128.5f), y(20);
  static_codes(x.data(), y.data(), 0, 20, {}, grid, &shift);
  for (float v : y) EXPECT_EQ(v, 256.0f);
  static_forward(x.data(), y.data(), 0, 20, {}, grid);
  for (float v : y) EXPECT_EQ(v, 129.0f);
}

// Each element's term of the backward sums is exact: a vector of 8 where one lane
// has a gradient sums to exactly the double-arithmetic term of that lane, on both
// paths, for grids from 2 to 32 bits, both scale modes, offsets in and out of the
// sum, and inputs in range, clamped, near ties and far beyond 2^24 steps.
TEST(FakeQuantCpuEdgeTest, BackwardSumTermsAreExactPerElement) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  struct Grid {
    float delta, offset, steps;
  };
  const Grid grids[] = {{4.5f / 255, -113.0f, 255.0f}, {0.37f, -2.0f, 3.0f}, {1e-6f, -2147483648.0f, 4294967295.0f},
                        {3e-3f, 0.0f, 65535.0f}, {2.0f, -128.0f, 255.0f}};
  for (bool avx2 : {true, false}) {
    set_avx2_enabled(avx2);
    for (const Grid& grid : grids) {
      const float inv = 1.0f / grid.delta;
      for (bool multiply : {false, true}) {
        for (bool offset_in_sum : {true, false}) {
          const LearnedGrid learned{&grid.delta, &inv, &grid.offset, grid.steps, multiply};
          for (int trial = 0; trial < 400; ++trial) {
            std::vector<float> x(8), g(8, 0.0f), gi(8);
            const float span = grid.delta * grid.steps;
            for (float& v : x) v = (grid.offset * grid.delta) + span * (0.5f + 0.7f * unit(rng));
            if (trial % 4 == 0) x[trial % 8] = (std::round(x[trial % 8] / grid.delta) + 0.5f) * grid.delta;  // a tie
            const int lane = trial % 8;
            g[static_cast<size_t>(lane)] = unit(rng);
            double s = 0.0, z = 0.0;
            learned_backward(x.data(), g.data(), gi.data(), 0, 8, ChannelLayout{1, 8}, learned, offset_in_sum, &s, &z);
            const LearnedElement e = learned_element(x[static_cast<size_t>(lane)], grid.delta, inv, grid.offset,
                                                     grid.steps, multiply);
            const float sum_offset = offset_in_sum ? grid.offset : 0.0f;
            const double term = (static_cast<double>(e.q + sum_offset) - static_cast<double>(e.k) * e.t) *
                                g[static_cast<size_t>(lane)];
            ASSERT_EQ(s, term) << "avx2 " << avx2 << " delta " << grid.delta << " multiply " << multiply << " x "
                               << x[static_cast<size_t>(lane)];
          }
        }
      }
    }
  }
  set_avx2_enabled(true);
}

TEST(FakeQuantCpuEdgeTest, EmptyRangeTouchesNothing) {
  const float one = 1.0f, zero = 0.0f;
  const StaticGrid grid{&zero, &one, &one, &zero};
  static_forward(nullptr, nullptr, 0, 0, {}, grid);
  double s = 0.0, z = 0.0;
  learned_backward(nullptr, nullptr, nullptr, 0, 0, {}, LearnedGrid{&one, &one, &zero, 255.0f, false}, true, &s, &z);
  EXPECT_EQ(s, 0.0);
  EXPECT_EQ(z, 0.0);
}

}  // namespace
}  // namespace qsim::kernels::cpu
