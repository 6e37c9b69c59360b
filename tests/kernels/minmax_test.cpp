#include "kernels/cpu/minmax.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/cpu/fake_quant_cpu.hpp"

namespace qsim::kernels::cpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Runs the kernel once on the scalar path and once on the AVX2 path (where the
// CPU has it) and checks both agree exactly.
MinMax both_paths(const std::vector<float>& x) {
  set_avx2_enabled(false);
  const MinMax scalar = minmax(x.data(), static_cast<int64_t>(x.size()));
  set_avx2_enabled(true);
  const MinMax vector = minmax(x.data(), static_cast<int64_t>(x.size()));
  EXPECT_EQ(scalar.finite, vector.finite);
  if (scalar.finite) {
    EXPECT_EQ(scalar.min, vector.min);
    EXPECT_EQ(scalar.max, vector.max);
  }
  return vector;
}

TEST(MinMaxTest, EmptyRangeIsTheIdentityOfMerge) {
  const MinMax r = both_paths({});
  EXPECT_EQ(r.min, kInf);
  EXPECT_EQ(r.max, -kInf);
  EXPECT_TRUE(r.finite);
  const MinMax m = merge(r, MinMax{-1.0f, 2.0f, true});
  EXPECT_EQ(m.min, -1.0f);
  EXPECT_EQ(m.max, 2.0f);
}

TEST(MinMaxTest, FindsExtremesAtEveryPositionAndLength) {
  // Lengths around the 8- and 32-wide blocks, extremes placed in the block body
  // and in the scalar tail.
  for (int n : {2, 7, 8, 9, 31, 32, 33, 65, 100}) {
    for (int pos = 0; pos < n; pos += 3) {
      std::vector<float> x(static_cast<size_t>(n), 0.25f);
      x[static_cast<size_t>(pos)] = -3.5f;
      x[static_cast<size_t>((pos + 1) % n)] = 7.0f;
      const MinMax r = both_paths(x);
      EXPECT_EQ(r.min, -3.5f) << "n=" << n << " pos=" << pos;
      EXPECT_EQ(r.max, 7.0f) << "n=" << n << " pos=" << pos;
      EXPECT_TRUE(r.finite);
    }
  }
}

TEST(MinMaxTest, FlagsNanAndInfAnywhere) {
  for (float bad : {std::nanf(""), kInf, -kInf}) {
    for (int n : {1, 8, 40, 41}) {
      std::vector<float> x(static_cast<size_t>(n), 1.0f);
      x[static_cast<size_t>(n / 2)] = bad;
      EXPECT_FALSE(both_paths(x).finite) << "value " << bad << " n=" << n;
      x[static_cast<size_t>(n / 2)] = 1.0f;
      x.back() = bad;
      EXPECT_FALSE(both_paths(x).finite) << "value " << bad << " at the end, n=" << n;
    }
  }
}

TEST(MinMaxTest, RandomDataMatchesStdAndMergesAcrossChunks) {
  std::mt19937 gen(7);
  std::normal_distribution<float> dist(0.5f, 3.0f);
  std::vector<float> x(10007);
  for (float& v : x) v = dist(gen);
  const MinMax whole = both_paths(x);
  float lo = x[0];
  float hi = x[0];
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(whole.min, lo);
  EXPECT_EQ(whole.max, hi);
  const MinMax a = minmax(x.data(), 5000);
  const MinMax b = minmax(x.data() + 5000, static_cast<int64_t>(x.size()) - 5000);
  const MinMax m = merge(a, b);
  EXPECT_EQ(m.min, lo);
  EXPECT_EQ(m.max, hi);
}

}  // namespace
}  // namespace qsim::kernels::cpu
