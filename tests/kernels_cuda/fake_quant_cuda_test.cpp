// CUDA fake-quant kernels against the CPU kernels, bit for bit: static grid
// forward, codes and STE backward, learned grid forward (§2, §5.3 of
// quantization-semantics.md), over every case of cuda_cases.hpp.

#include <gtest/gtest.h>

#include "kernels/cpu/fake_quant_cpu.hpp"
#include "kernels/cuda/learned_forward.cuh"
#include "kernels/cuda/static_codes.cuh"
#include "kernels/cuda/static_forward.cuh"
#include "kernels/cuda/static_ste_backward.cuh"
#include "kernels_cuda/cuda_cases.hpp"
#include "kernels_cuda/cuda_test_support.hpp"

namespace qsim::test::cuda {
namespace {

namespace cpu = kernels::cpu;
namespace gpu = kernels::cuda;

struct EncodingSpec {
  double min, max;
  int bitwidth;
};

// Strict detection (min == −max), asymmetric, unsigned, a non-aligned range (codes
// −1 and N+1), 4 and 16 bits, and a range under the 1e-5 gate.
const EncodingSpec kEncodings[] = {{-1.0, 1.0, 8},   {-0.73, 2.41, 8},     {0.0, 5.0, 8},   {-126.5, 128.5, 8},
                                   {-3.0, 0.5, 4},   {-1000.0, 3.0, 16},  {-2e-6, 3e-6, 8}};
constexpr int kEncodingCount = sizeof(kEncodings) / sizeof(kEncodings[0]);

StaticParams static_params(int64_t channels, int first) {
  StaticParams p;
  for (int64_t c = 0; c < channels; ++c) {
    const EncodingSpec& e = kEncodings[(first + c) % kEncodingCount];
    add_static_channel(p, e.min, e.max, e.bitwidth);
  }
  return p;
}

std::vector<GridView> views_of(const StaticParams& p, int first) {
  std::vector<GridView> v;
  for (size_t c = 0; c < p.delta.size(); ++c) {
    const int bw = kEncodings[(first + static_cast<int>(c)) % kEncodingCount].bitwidth;
    v.push_back({p.delta[c], p.offset[c], static_cast<float>(std::ldexp(1.0, bw) - 1.0)});
  }
  return v;
}

/// The device copy of a StaticParams.
struct DeviceStatic {
  explicit DeviceStatic(const StaticParams& p)
      : lo(to_device(p.lo)), hi(to_device(p.hi)), delta(to_device(p.delta)), offset(to_device(p.offset)) {}
  cpu::StaticGrid grid() const { return {lo.at(), hi.at(), delta.at(), offset.at()}; }
  DeviceArray<float> lo, hi, delta, offset;
};

cpu::StaticGrid host_grid(const StaticParams& p) { return {p.lo.data(), p.hi.data(), p.delta.data(), p.offset.data()}; }

template <typename T>
void expect_same_bits(const std::vector<T>& expected, const std::vector<T>& got, const std::string& what) {
  ASSERT_EQ(expected.size(), got.size()) << what;
  int64_t mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (bits(expected[i]) != bits(got[i])) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << what << ": element " << i << ": cpu " << to_float(expected[i]) << ", cuda "
                      << to_float(got[i]);
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << what << ": elements that differ";
}

void sync() { QSIM_CUDA_CHECK(cudaDeviceSynchronize()); }

// Runs `body(first_encoding)` once per encoding for per-tensor cases (every encoding
// is covered), once for per-channel cases (channels cycle through them).
template <typename Body>
void for_each_encoding(const Case& c, Body&& body) {
  const int runs = c.axis < 0 ? kEncodingCount : 1;
  for (int e = 0; e < runs; ++e) {
    SCOPED_TRACE("first encoding " + std::to_string(e));
    body(e);
  }
}

template <typename T>
void check_static_forward(const Case& c) {
  const int64_t n = c.numel();
  const cpu::ChannelLayout layout = c.layout();
  for_each_encoding(c, [&](int e) {
    const StaticParams p = static_params(layout.channels, e);
    const std::vector<T> x = convert<T>(make_inputs(n, layout, views_of(p, e), 7u + static_cast<uint32_t>(e)));
    const std::vector<float> xf = widen(x);
    std::vector<float> ref(static_cast<size_t>(n));
    cpu::static_forward(xf.data(), ref.data(), 0, n, layout, host_grid(p));

    DeviceArray<T> dx(n);
    DeviceArray<T> dy(n);
    dx.upload(x, c.shift_in);
    const DeviceStatic dp(p);
    gpu::static_forward(dx.at(c.shift_in), dy.at(c.shift_out), 0, n, layout, dp.grid(), nullptr);
    sync();
    expect_same_bits(convert<T>(ref), dy.download(n, c.shift_out), "static_forward");
  });
}

template <typename T>
void check_static_codes(const Case& c) {
  const int64_t n = c.numel();
  const cpu::ChannelLayout layout = c.layout();
  for_each_encoding(c, [&](int e) {
    const StaticParams p = static_params(layout.channels, e);
    std::vector<float> shift;
    for (int64_t ch = 0; ch < layout.channels; ++ch) {
      const int bw = kEncodings[(e + ch) % kEncodingCount].bitwidth;
      shift.push_back(ch % 2 == 0 ? static_cast<float>(std::ldexp(1.0, bw - 1)) : 0.0f);  // signed, unsigned
    }
    const std::vector<T> x = convert<T>(make_inputs(n, layout, views_of(p, e), 11u + static_cast<uint32_t>(e)));
    const std::vector<float> xf = widen(x);
    std::vector<float> ref(static_cast<size_t>(n));
    cpu::static_codes(xf.data(), ref.data(), 0, n, layout, host_grid(p), shift.data());

    DeviceArray<T> dx(n);
    DeviceArray<float> dy(n);
    dx.upload(x, c.shift_in);
    const DeviceStatic dp(p);
    const DeviceArray<float> dshift = to_device(shift);
    gpu::static_codes(dx.at(c.shift_in), dy.at(c.shift_out), 0, n, layout, dp.grid(), dshift.at(), nullptr);
    sync();
    expect_same_bits(ref, dy.download(n, c.shift_out), "static_codes");
  });
}

template <typename T>
void check_static_ste(const Case& c) {
  const int64_t n = c.numel();
  const cpu::ChannelLayout layout = c.layout();
  for_each_encoding(c, [&](int e) {
    const StaticParams p = static_params(layout.channels, e);
    std::vector<float> mins, maxs;
    for (int64_t ch = 0; ch < layout.channels; ++ch) {
      const EncodingSpec& spec = kEncodings[(e + ch) % kEncodingCount];
      mins.push_back(static_cast<float>(spec.min));
      maxs.push_back(static_cast<float>(spec.max));
    }
    // y: the forward output and raw inputs mixed, so both sides of the mask occur.
    const std::vector<float> raw = make_inputs(n, layout, views_of(p, e), 13u + static_cast<uint32_t>(e));
    std::vector<float> yq(raw.size());
    cpu::static_forward(raw.data(), yq.data(), 0, n, layout, host_grid(p));
    for (size_t i = 0; i < yq.size(); i += 3) yq[i] = raw[i];
    const std::vector<T> y = convert<T>(yq);
    const std::vector<T> g = convert<T>(make_inputs(n, layout, views_of(p, e), 17u + static_cast<uint32_t>(e)));
    const std::vector<float> yf = widen(y);
    const std::vector<float> gf = widen(g);
    std::vector<float> ref(static_cast<size_t>(n));
    cpu::static_ste_backward(yf.data(), gf.data(), ref.data(), 0, n, layout, mins.data(), maxs.data());

    DeviceArray<T> dy(n), dg(n), dgi(n);
    dy.upload(y, c.shift_in);
    dg.upload(g, c.shift_in);
    const DeviceArray<float> dmin = to_device(mins);
    const DeviceArray<float> dmax = to_device(maxs);
    gpu::static_ste_backward(dy.at(c.shift_in), dg.at(c.shift_in), dgi.at(c.shift_out), 0, n, layout, dmin.at(),
                             dmax.at(), nullptr);
    sync();
    expect_same_bits(convert<T>(ref), dgi.download(n, c.shift_out), "static_ste_backward");
  });
}

template <typename T>
void check_learned_forward(const Case& c) {
  const int64_t n = c.numel();
  const cpu::ChannelLayout layout = c.layout();
  for (float steps : {255.0f, 15.0f}) {
    for (bool multiply : {false, true}) {
      SCOPED_TRACE("steps " + std::to_string(steps) + (multiply ? " multiply" : " divide"));
      LearnedParams p;
      std::vector<GridView> views;
      for (int64_t ch = 0; ch < layout.channels; ++ch) {
        const EncodingSpec& e = kEncodings[ch % kEncodingCount];
        add_learned_channel(p, static_cast<float>(std::min(e.min, 0.0)), static_cast<float>(e.max) + 1e-3f, steps);
        views.push_back({p.delta.back(), p.offset.back(), steps});
      }
      const std::vector<T> x = convert<T>(make_inputs(n, layout, views, 19u));
      const std::vector<float> xf = widen(x);
      std::vector<float> ref(static_cast<size_t>(n));
      const cpu::LearnedGrid host{p.delta.data(), p.inv_delta.data(), p.offset.data(), steps, multiply};
      cpu::learned_forward(xf.data(), ref.data(), 0, n, layout, host);

      DeviceArray<T> dx(n), dy(n);
      dx.upload(x, c.shift_in);
      const DeviceArray<float> dd = to_device(p.delta), di = to_device(p.inv_delta), doff = to_device(p.offset);
      gpu::learned_forward(dx.at(c.shift_in), dy.at(c.shift_out), 0, n, layout,
                           {dd.at(), di.at(), doff.at(), steps, multiply}, nullptr);
      sync();
      expect_same_bits(convert<T>(ref), dy.download(n, c.shift_out), "learned_forward");
    }
  }
}

template <typename T>
struct StaticForward {
  static void run(const Case& c) { check_static_forward<T>(c); }
};
template <typename T>
struct StaticCodes {
  static void run(const Case& c) { check_static_codes<T>(c); }
};
template <typename T>
struct StaticSte {
  static void run(const Case& c) { check_static_ste<T>(c); }
};
template <typename T>
struct LearnedForward {
  static void run(const Case& c) { check_learned_forward<T>(c); }
};

class FakeQuantCudaTest : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override { QSIM_REQUIRE_DEVICE(); }
};

TEST_P(FakeQuantCudaTest, StaticForwardMatchesCpuBitwise) { for_each_dtype<StaticForward>(GetParam()); }
TEST_P(FakeQuantCudaTest, StaticCodesMatchCpuBitwise) { for_each_dtype<StaticCodes>(GetParam()); }
TEST_P(FakeQuantCudaTest, StaticSteBackwardMatchesCpuBitwise) { for_each_dtype<StaticSte>(GetParam()); }
TEST_P(FakeQuantCudaTest, LearnedForwardMatchesCpuBitwise) { for_each_dtype<LearnedForward>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Cases, FakeQuantCudaTest, testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace qsim::test::cuda
