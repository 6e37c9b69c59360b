#include "kernels/cpu/histogram.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/cpu/fake_quant_cpu.hpp"

namespace qsim::kernels::cpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Binned {
  std::vector<int64_t> counts;
  bool finite;
};

// Bins on the scalar path and on the AVX2 path (where the CPU has it); both must
// give identical counts.
Binned rounded(const std::vector<float>& x, float width, float offset, int64_t buckets) {
  Binned out[2];
  for (int path = 0; path < 2; ++path) {
    set_avx2_enabled(path == 1);
    out[path].counts.assign(static_cast<size_t>(buckets), 0);
    out[path].finite =
        histogram_rounded(x.data(), static_cast<int64_t>(x.size()), width, offset, out[path].counts.data(), buckets);
  }
  EXPECT_EQ(out[0].counts, out[1].counts);
  EXPECT_EQ(out[0].finite, out[1].finite);
  return out[1];
}

Binned truncated(const std::vector<float>& x, float min, float width, int64_t buckets) {
  Binned out[2];
  for (int path = 0; path < 2; ++path) {
    set_avx2_enabled(path == 1);
    out[path].counts.assign(static_cast<size_t>(buckets), 0);
    out[path].finite =
        histogram_truncated(x.data(), static_cast<int64_t>(x.size()), min, width, out[path].counts.data(), buckets);
  }
  EXPECT_EQ(out[0].counts, out[1].counts);
  EXPECT_EQ(out[0].finite, out[1].finite);
  return out[1];
}

TEST(HistogramRoundedTest, RoundsTiesAwayFromZeroAndDropsOutOfRange) {
  // width 1, offset L/w = −2: bucket = round_away(x + 2), 4 buckets [0, 3].
  //   −2.5 → −0.5 → −1 (dropped)      −2.4 → −0.4 → 0     −1.5 → 0.5 → 1
  //    0.5 →  2.5 → 3                  1.49 → 3.49 → 3     1.5 → 3.5 → 4 (dropped)
  //   −0.6 →  1.4 → 1                  −0.5 → 1.5 → 2 (tie away from zero)
  // Repeated 3 times so the AVX2 body (8 wide) and the scalar tail both see them.
  std::vector<float> once = {-2.5f, -2.4f, -1.5f, 0.5f, 1.49f, 1.5f, -0.6f, -0.5f};
  std::vector<float> x;
  for (int r = 0; r < 3; ++r) x.insert(x.end(), once.begin(), once.end());
  x.push_back(-1.5f);  // one more in the tail
  const Binned b = rounded(x, 1.0f, -2.0f, 4);
  EXPECT_TRUE(b.finite);
  EXPECT_EQ(b.counts, (std::vector<int64_t>{3, 3 + 3 + 1, 3, 6}));
}

TEST(HistogramRoundedTest, DropsAndFlagsNanAndInf) {
  std::vector<float> x(19, 0.0f);
  x[3] = std::nanf("");
  x[9] = kInf;
  x[18] = -kInf;
  const Binned b = rounded(x, 0.5f, -1.0f, 8);  // 0 → round_away(0/0.5 + 1) = 1
  EXPECT_FALSE(b.finite);
  EXPECT_EQ(b.counts[1], 16);
  int64_t total = 0;
  for (int64_t c : b.counts) total += c;
  EXPECT_EQ(total, 16);
}

TEST(HistogramRoundedTest, HugeValuesAreDroppedWithoutOverflow) {
  const float big = std::numeric_limits<float>::max();
  const Binned b = rounded({big, -big, 1e30f, -1e30f, 0.0f}, 1e-3f, 0.0f, 512);
  EXPECT_TRUE(b.finite);
  EXPECT_EQ(b.counts[0], 1);
  int64_t total = 0;
  for (int64_t c : b.counts) total += c;
  EXPECT_EQ(total, 1);
}

TEST(HistogramRoundedTest, RandomDataMatchesTheScalarFormula) {
  // Reference: the §3.2 formula written out with roundf and an explicit range check.
  std::mt19937 gen(11);
  std::normal_distribution<float> dist(0.3f, 2.0f);
  std::vector<float> x(4099);
  for (float& v : x) v = dist(gen);
  const float width = 0.0234375f;
  const float offset = -6.0f / width;
  std::vector<int64_t> expected(512, 0);
  for (float v : x) {
    const int idx = static_cast<int>(std::roundf(v / width - offset));
    if (idx >= 0 && idx < 512) ++expected[static_cast<size_t>(idx)];
  }
  EXPECT_EQ(rounded(x, width, offset, 512).counts, expected);
}

TEST(HistogramRoundedTest, AddsToExistingCounts) {
  std::vector<int64_t> counts = {5, 0};
  const float x[] = {0.0f, 1.0f};
  EXPECT_TRUE(histogram_rounded(x, 2, 1.0f, 0.0f, counts.data(), 2));
  EXPECT_EQ(counts, (std::vector<int64_t>{6, 1}));
}

TEST(HistogramTruncatedTest, TruncatesAndClampsToTheLastBucket) {
  // min 0, width 0.5, 4 buckets: trunc(x / 0.5), values below min → 0, above → 3.
  std::vector<float> x = {0.0f, 0.49f, 0.5f, 0.99f, 1.0f, 1.7f, 2.0f, 100.0f, -3.0f};
  x.insert(x.end(), x.begin(), x.end());
  const Binned b = truncated(x, 0.0f, 0.5f, 4);
  EXPECT_TRUE(b.finite);
  EXPECT_EQ(b.counts, (std::vector<int64_t>{6, 4, 2, 6}));
}

TEST(HistogramTruncatedTest, ZeroWidthPutsEverythingInBucketZero) {
  const Binned b = truncated({1.0f, 2.0f, 3.0f}, 1.0f, 0.0f, 4);
  EXPECT_EQ(b.counts, (std::vector<int64_t>{3, 0, 0, 0}));
}

TEST(HistogramTruncatedTest, SkipsAndFlagsNanAndInf) {
  std::vector<float> x(12, 1.0f);
  x[2] = std::nanf("");
  x[10] = -kInf;
  const Binned b = truncated(x, 0.0f, 1.0f, 4);
  EXPECT_FALSE(b.finite);
  EXPECT_EQ(b.counts, (std::vector<int64_t>{0, 10, 0, 0}));
}

TEST(HistogramTruncatedTest, RandomDataMatchesTheScalarFormula) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(-1.0f, 3.0f);
  std::vector<float> x(1037);
  for (float& v : x) v = dist(gen);
  const float min = -1.0f;
  const float width = 4.0f / 512.0f;
  std::vector<int64_t> expected(512, 0);
  for (float v : x) {
    const auto idx = std::min<size_t>(static_cast<size_t>((v - min) / width), 511);
    ++expected[idx];
  }
  EXPECT_EQ(truncated(x, min, width, 512).counts, expected);
}

}  // namespace
}  // namespace qsim::kernels::cpu
