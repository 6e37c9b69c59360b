// Min/max and histogram kernels on CUDA against kernels/cpu: equal results (the
// counts exactly; min and max by value — a zero's sign may differ, +0 == −0).

#include <cmath>

#include <gtest/gtest.h>

#include "kernels/cpu/histogram.hpp"
#include "kernels/cpu/minmax.hpp"
#include "kernels/cuda/histogram.cuh"
#include "kernels/cuda/minmax.cuh"
#include "kernels_cuda/cuda_cases.hpp"
#include "kernels_cuda/cuda_test_support.hpp"
#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace qsim::test::cuda {
namespace {

namespace cpu = kernels::cpu;
namespace gpu = kernels::cuda;

/// Inputs around a [−3, 5] range; `specials` mixes in NaN, ±Inf, ±0, denormals.
std::vector<float> stats_inputs(int64_t n, bool specials, uint32_t seed) {
  std::vector<float> x = make_inputs(n, {1, 1}, {{8.0f / 255.0f, -96.0f, 255.0f}}, seed);
  if (!specials) {
    for (float& v : x) {
      if (!std::isfinite(v) || std::fabs(v) > 1e30f) v = -1.5f;
    }
  }
  return x;
}

template <typename T>
void check_minmax(const Case& c, bool specials) {
  const int64_t n = c.numel();
  const std::vector<T> x = convert<T>(stats_inputs(n, specials, 31u));
  const std::vector<float> xf = widen(x);
  const cpu::MinMax ref = cpu::minmax(xf.data(), n);

  DeviceArray<T> dx(n);
  dx.upload(x, c.shift_in);
  DeviceArray<cpu::MinMax> result(1);
  const int64_t bytes = gpu::minmax_workspace_bytes();
  DeviceArray<char> workspace(bytes);
  gpu::minmax(dx.at(c.shift_in), n, result.at(), workspace.at(), bytes, nullptr);
  QSIM_CUDA_CHECK(cudaDeviceSynchronize());
  const cpu::MinMax got = result.download(1)[0];
  EXPECT_EQ(got.finite, ref.finite);
  if (ref.finite || n == 0) {
    EXPECT_EQ(got.min, ref.min);
    EXPECT_EQ(got.max, ref.max);
  }
}

template <typename T>
void check_histograms(const Case& c, bool specials) {
  const int64_t n = c.numel();
  const int64_t buckets = 512;
  const std::vector<T> x = convert<T>(stats_inputs(n, specials, 37u));
  const std::vector<float> xf = widen(x);
  // §3.2's range from a spread [−3, 5]: L = c − 3(c − mn), width = (H − L)/512.
  const float mn = -3.0f, mx = 5.0f, centre = (mx + mn) / 2.0f;
  const float low = centre - 3.0f * (centre - mn);
  const float high = centre + 3.0f * (mx - centre);
  const float width = (high - low) / static_cast<float>(buckets);
  const float offset = low / width;

  std::vector<int64_t> rounded_ref(static_cast<size_t>(buckets), 5);  // counts are added to
  std::vector<int64_t> truncated_ref(static_cast<size_t>(buckets), 5);
  const bool rounded_finite = cpu::histogram_rounded(xf.data(), n, width, offset, rounded_ref.data(), buckets);
  const bool truncated_finite = cpu::histogram_truncated(xf.data(), n, mn, width, truncated_ref.data(), buckets);

  DeviceArray<T> dx(n);
  dx.upload(x, c.shift_in);
  DeviceArray<int64_t> rounded(buckets), truncated(buckets);
  rounded.upload(std::vector<int64_t>(static_cast<size_t>(buckets), 5));
  truncated.upload(std::vector<int64_t>(static_cast<size_t>(buckets), 5));
  DeviceArray<uint8_t> finite(2);  // two device bools (std::vector<bool> has no data())
  gpu::histogram_rounded(dx.at(c.shift_in), n, width, offset, rounded.at(), buckets,
                         reinterpret_cast<bool*>(finite.at(0)), nullptr);
  gpu::histogram_truncated(dx.at(c.shift_in), n, mn, width, truncated.at(), buckets,
                           reinterpret_cast<bool*>(finite.at(1)), nullptr);
  QSIM_CUDA_CHECK(cudaDeviceSynchronize());
  EXPECT_EQ(rounded.download(buckets), rounded_ref);
  EXPECT_EQ(truncated.download(buckets), truncated_ref);
  const std::vector<uint8_t> flags = finite.download(2);
  EXPECT_EQ(flags[0] != 0, rounded_finite);
  EXPECT_EQ(flags[1] != 0, truncated_finite);
}

class StatisticsCudaTest : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override { QSIM_REQUIRE_DEVICE(); }
  template <template <typename> class Check>
  void run(bool specials) {
    for_each_dtype<Check>(GetParam(), specials);
  }
};

template <typename T>
struct MinMaxCheck {
  static void run(const Case& c, bool specials) { check_minmax<T>(c, specials); }
};
template <typename T>
struct HistogramCheck {
  static void run(const Case& c, bool specials) { check_histograms<T>(c, specials); }
};

TEST_P(StatisticsCudaTest, MinMaxMatchesCpu) { run<MinMaxCheck>(false); }
TEST_P(StatisticsCudaTest, MinMaxFlagsNanAndInf) { run<MinMaxCheck>(true); }
TEST_P(StatisticsCudaTest, HistogramsMatchCpu) { run<HistogramCheck>(false); }
TEST_P(StatisticsCudaTest, HistogramsDropNanAndInf) { run<HistogramCheck>(true); }

// Statistics are per-tensor: only the flat cases apply.
std::vector<Case> flat_cases() {
  std::vector<Case> out;
  for (const Case& c : all_cases()) {
    if (c.axis < 0 && c.shift_in == c.shift_out) out.push_back(c);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Cases, StatisticsCudaTest, testing::ValuesIn(flat_cases()), case_name);

TEST(StatisticsCudaErrorTest, MinMaxRejectsSmallWorkspace) {
  QSIM_EXPECT_THROW_MSG(gpu::minmax(static_cast<const float*>(nullptr), 0, nullptr, reinterpret_cast<void*>(16),
                                    gpu::minmax_workspace_bytes() - 1, nullptr),
                        Error, {"minmax (cuda)", "workspace"});
}

}  // namespace
}  // namespace qsim::test::cuda
