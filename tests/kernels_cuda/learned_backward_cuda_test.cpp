// The fused range-learning backward (§5.4) on CUDA against the CPU kernel: the
// input gradient bit for bit, the per-channel sums to 1e-6 relative (both add in
// double, in different orders: the GPU reduces per block, then across blocks).

#include <cmath>

#include <gtest/gtest.h>

#include "kernels/cpu/fake_quant_cpu.hpp"
#include "kernels/cuda/learned_backward.cuh"
#include "kernels/fake_quant_scalar.hpp"
#include "kernels_cuda/cuda_cases.hpp"
#include "kernels_cuda/cuda_test_support.hpp"
#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace qsim::test::cuda {
namespace {

namespace cpu = kernels::cpu;
namespace gpu = kernels::cuda;

constexpr double kRelativeTolerance = 1e-6;

// Finite inputs only: a NaN or Inf makes both sums NaN/Inf on either device, which
// the sums cannot compare meaningfully (the gradient still is, elementwise).
std::vector<float> finite_inputs(int64_t n, cpu::ChannelLayout layout, const std::vector<GridView>& views,
                                 uint32_t seed) {
  std::vector<float> x = make_inputs(n, layout, views, seed);
  for (float& v : x) {
    if (!std::isfinite(v) || std::fabs(v) > 1e30f) v = 0.25f;
  }
  return x;
}

/// Σ|term| per channel of the two sums, to scale the tolerance of a sum that
/// cancels to (almost) zero: there 1e-6 of the result is below double rounding.
struct AbsSums {
  std::vector<double> s, z;
};

AbsSums abs_sums(const std::vector<float>& x, const std::vector<float>& g, cpu::ChannelLayout layout,
                 const LearnedParams& p, float steps, bool multiply, bool offset_in_sum) {
  AbsSums a{std::vector<double>(static_cast<size_t>(layout.channels), 0.0),
            std::vector<double>(static_cast<size_t>(layout.channels), 0.0)};
  for (size_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<size_t>(static_cast<int64_t>(i) / layout.inner % layout.channels);
    const kernels::LearnedElement e = kernels::learned_element(x[i], p.delta[c], p.inv_delta[c], p.offset[c], steps,
                                                               multiply);
    const float sum_offset = offset_in_sum ? p.offset[c] : 0.0f;
    a.s[c] += std::fabs((static_cast<double>(e.q + sum_offset) - static_cast<double>(e.k) * e.t) * g[i]);
    a.z[c] += std::fabs(static_cast<double>((1.0f - e.k) * g[i]));
  }
  return a;
}

void expect_close(const std::vector<double>& cpu_sums, const std::vector<double>& gpu_sums,
                  const std::vector<double>& abs_sum, int calls, const char* what) {
  ASSERT_EQ(cpu_sums.size(), gpu_sums.size());
  for (size_t c = 0; c < cpu_sums.size(); ++c) {
    const double scale = std::max(std::fabs(cpu_sums[c]), 1e-9 * calls * abs_sum[c]);
    EXPECT_LE(std::fabs(cpu_sums[c] - gpu_sums[c]), kRelativeTolerance * scale)
        << what << "[" << c << "]: cpu " << cpu_sums[c] << ", cuda " << gpu_sums[c];
  }
}

template <typename T>
void check_learned_backward(const Case& c, int calls) {
  const int64_t n = c.numel();
  const cpu::ChannelLayout layout = c.layout();
  const float steps = 255.0f;
  for (bool multiply : {false, true}) {
    for (bool offset_in_sum : {true, false}) {
      SCOPED_TRACE(std::string(multiply ? "multiply" : "divide") + (offset_in_sum ? ", offset in sum" : ""));
      LearnedParams p;
      std::vector<GridView> views;
      for (int64_t ch = 0; ch < layout.channels; ++ch) {
        add_learned_channel(p, -0.5f - 0.25f * static_cast<float>(ch % 5), 1.0f + 0.5f * static_cast<float>(ch % 3),
                            steps);
        views.push_back({p.delta.back(), p.offset.back(), steps});
      }
      const std::vector<T> x = convert<T>(finite_inputs(n, layout, views, 23u));
      const std::vector<T> g = convert<T>(finite_inputs(n, layout, views, 29u));
      const std::vector<float> xf = widen(x);
      const std::vector<float> gf = widen(g);
      std::vector<float> gi_ref(static_cast<size_t>(n));
      std::vector<double> s_ref(static_cast<size_t>(layout.channels), 0.0);
      std::vector<double> z_ref(s_ref);
      const cpu::LearnedGrid host{p.delta.data(), p.inv_delta.data(), p.offset.data(), steps, multiply};
      for (int k = 0; k < calls; ++k) {
        cpu::learned_backward(xf.data(), gf.data(), gi_ref.data(), 0, n, layout, host, offset_in_sum, s_ref.data(),
                              z_ref.data());
      }

      DeviceArray<T> dx(n), dg(n), dgi(n);
      dx.upload(x, c.shift_in);
      dg.upload(g, c.shift_in);
      const DeviceArray<float> dd = to_device(p.delta), di = to_device(p.inv_delta), doff = to_device(p.offset);
      DeviceArray<double> ds(layout.channels), dz(layout.channels);  // zeroed
      const int64_t bytes = gpu::learned_backward_workspace_bytes(layout);
      DeviceArray<char> workspace(bytes);
      cudaMemset(workspace.at(), 0xff, static_cast<size_t>(bytes));  // garbage: the kernel must not care
      for (int k = 0; k < calls; ++k) {
        gpu::learned_backward(dx.at(c.shift_in), dg.at(c.shift_in), dgi.at(c.shift_out), 0, n, layout,
                              {dd.at(), di.at(), doff.at(), steps, multiply}, offset_in_sum, ds.at(), dz.at(),
                              workspace.at(), bytes, nullptr);
      }
      QSIM_CUDA_CHECK(cudaDeviceSynchronize());
      const std::vector<T> gi = dgi.download(n, c.shift_out);
      const std::vector<T> gi_expected = convert<T>(gi_ref);
      int64_t mismatches = 0;
      for (size_t i = 0; i < gi.size(); ++i) mismatches += bits(gi[i]) != bits(gi_expected[i]);
      EXPECT_EQ(mismatches, 0) << "gradient elements that differ";
      const AbsSums a = abs_sums(xf, gf, layout, p, steps, multiply, offset_in_sum);
      expect_close(s_ref, ds.download(layout.channels), a.s, calls, "sum_s");
      expect_close(z_ref, dz.download(layout.channels), a.z, calls, "sum_z");
    }
  }
}

class LearnedBackwardCudaTest : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override { QSIM_REQUIRE_DEVICE(); }
};

template <typename T>
struct Backward {
  static void run(const Case& c, int calls) { check_learned_backward<T>(c, calls); }
};

TEST_P(LearnedBackwardCudaTest, MatchesCpu) { for_each_dtype<Backward>(GetParam(), 1); }
TEST_P(LearnedBackwardCudaTest, AccumulatesAcrossCalls) { for_each_dtype<Backward>(GetParam(), 2); }

INSTANTIATE_TEST_SUITE_P(Cases, LearnedBackwardCudaTest, testing::ValuesIn(all_cases()), case_name);

TEST(LearnedBackwardCudaErrorTest, RejectsSmallWorkspaceBeforeTouchingTheDevice) {
  const cpu::ChannelLayout layout{4, 16};
  const int64_t bytes = gpu::learned_backward_workspace_bytes(layout);
  EXPECT_GT(bytes, 0);
  QSIM_EXPECT_THROW_MSG(gpu::learned_backward(static_cast<const float*>(nullptr), nullptr, nullptr, 0, 64, layout, {},
                                              true, nullptr, nullptr, reinterpret_cast<void*>(16), bytes - 1,
                                              nullptr),
                        Error, {"learned_backward (cuda)", "workspace", std::to_string(bytes).c_str()});
}

TEST(LearnedBackwardCudaErrorTest, RejectsPerChannelRangeThatSplitsASlice) {
  const cpu::ChannelLayout layout{4, 16};
  const int64_t bytes = gpu::learned_backward_workspace_bytes(layout);
  QSIM_EXPECT_THROW_MSG(gpu::learned_backward(static_cast<const float*>(nullptr), nullptr, nullptr, 0, 70, layout, {},
                                              true, nullptr, nullptr, reinterpret_cast<void*>(16), bytes, nullptr),
                        Error, {"learned_backward (cuda)", "[0, 70)", "64"});
}

}  // namespace
}  // namespace qsim::test::cuda
