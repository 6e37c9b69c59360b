// The public quant ops on CUDA tensors against the same ops on the CPU: values,
// codes and gradients bit-identical; the range-learning sums and min/max gradients
// within 1e-6 relative (double sums added in another order). Random and adversarial
// inputs, odd sizes, misaligned views, every dtype, per channel on every axis.

#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"
#include "torch_cuda_support.hpp"

namespace qsim::quant {
namespace {

using test::close_relative;
using test::same_bits;

const torch::Device kCuda(torch::kCUDA);

// Normal values over ±1.5× the range, then the values every rounding rule is
// decided on: ties between grid points, the grid points, both ends, beyond them,
// ±0, NaN, ±Inf and denormals.
torch::Tensor adversarial(int64_t n, const Encoding& e, uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor x = torch::randn({n}, torch::kFloat) * static_cast<float>(0.75 * (e.max - e.min)) +
                    static_cast<float>(0.5 * (e.max + e.min));
  std::vector<float> special = {0.0f, -0.0f, NAN, INFINITY, -INFINITY, 1e-40f, -1e-40f, static_cast<float>(e.min),
                                static_cast<float>(e.max), static_cast<float>(e.min - e.delta),
                                static_cast<float>(e.max + e.delta)};
  for (int q = 0; q < 6; ++q) {
    special.push_back(static_cast<float>((q + e.offset) * e.delta));
    special.push_back(static_cast<float>((q + 0.5 + e.offset) * e.delta));
    special.push_back(static_cast<float>((q - 0.5 + e.offset) * e.delta));
  }
  const int64_t count = std::min<int64_t>(n, static_cast<int64_t>(special.size()));
  for (int64_t i = 0; i < count; ++i) x[i * (n / std::max<int64_t>(count, 1))] = special[static_cast<size_t>(i)];
  return x;
}

// x (on the CPU) as a CUDA view that starts `shift` elements into its storage.
torch::Tensor misaligned_on_device(const torch::Tensor& x, int64_t shift) {
  torch::Tensor storage = torch::empty({x.numel() + shift}, x.options().device(kCuda));
  storage.narrow(0, shift, x.numel()).copy_(x.reshape({-1}));
  return storage.narrow(0, shift, x.numel()).view(x.sizes());
}

const std::vector<int64_t> kSizes = {1, 3, 7, 16, 33, 257, 1000, 4099, 65537};
const std::vector<torch::ScalarType> kTypes = {torch::kFloat, torch::kHalf, torch::kBFloat16};

TEST(FakeQuantDispatchTest, StaticForwardAndCodesAreBitIdentical) {
  QSIM_REQUIRE_TORCH_CUDA();
  for (const Symmetry symmetry : {Symmetry::asymmetric, Symmetry::symmetric, Symmetry::unsigned_symmetric}) {
    const Encoding e = make_encoding(-0.7, 1.3, 8, symmetry);
    for (const int64_t n : kSizes) {
      for (const torch::ScalarType type : kTypes) {
        for (const int64_t shift : {0, 1, 2, 3}) {
          const torch::Tensor x = adversarial(n, e, static_cast<uint64_t>(n + shift)).to(type);
          const torch::Tensor xd = misaligned_on_device(x, shift);
          SCOPED_TRACE(testing::Message() << to_string(symmetry) << " n=" << n << " " << type << " shift=" << shift);
          EXPECT_TRUE(same_bits(fake_quantize_static(xd, e), fake_quantize_static(x, e)));
          EXPECT_TRUE(same_bits(quantize_static(xd, {e}, std::nullopt, symmetry),
                                quantize_static(x, {e}, std::nullopt, symmetry)));
        }
      }
    }
  }
}

TEST(FakeQuantDispatchTest, StaticOutVariantWritesTheDeviceOutput) {
  QSIM_REQUIRE_TORCH_CUDA();
  const Encoding e = make_encoding(-1.0, 2.0, 8, Symmetry::asymmetric);
  const torch::Tensor x = adversarial(5000, e, 3);
  torch::Tensor out = torch::empty_like(x, x.options().device(kCuda));
  fake_quantize_static_out(x.to(kCuda), {e}, std::nullopt, out);
  EXPECT_TRUE(same_bits(out, fake_quantize_static(x, e)));
  torch::Tensor in_place = x.to(kCuda);
  fake_quantize_static_out(in_place, {e}, std::nullopt, in_place);
  EXPECT_TRUE(same_bits(in_place, fake_quantize_static(x, e)));
}

TEST(FakeQuantDispatchTest, PerChannelOnEveryAxisIsBitIdentical) {
  QSIM_REQUIRE_TORCH_CUDA();
  // [3, 300, 5]: axis 0 takes the row path (inner ≥ 256), the others the flat path.
  const std::vector<int64_t> shape = {3, 300, 5};
  for (int64_t axis = -3; axis < 3; ++axis) {
    const int64_t channels = shape[static_cast<size_t>(axis < 0 ? axis + 3 : axis)];
    std::vector<Encoding> encodings;
    for (int64_t c = 0; c < channels; ++c)
      encodings.push_back(make_encoding(-0.5 - 0.1 * c, 0.8 + 0.05 * c, 8, Symmetry::symmetric));
    for (const torch::ScalarType type : kTypes) {
      const torch::Tensor x = adversarial(3 * 300 * 5, encodings[0], static_cast<uint64_t>(axis + 10)).view(shape).to(type);
      const torch::Tensor xd = x.to(kCuda);
      SCOPED_TRACE(testing::Message() << "axis " << axis << " " << type);
      EXPECT_TRUE(same_bits(fake_quantize_static(xd, encodings, axis), fake_quantize_static(x, encodings, axis)));
      EXPECT_TRUE(same_bits(quantize_static(xd, encodings, axis, Symmetry::symmetric),
                            quantize_static(x, encodings, axis, Symmetry::symmetric)));
      const torch::Tensor codes = quantize_static(x, encodings, axis, Symmetry::symmetric);
      EXPECT_TRUE(same_bits(dequantize_static(codes.to(kCuda), encodings, axis, Symmetry::symmetric),
                            dequantize_static(codes, encodings, axis, Symmetry::symmetric)));
    }
  }
}

TEST(FakeQuantDispatchTest, StraightThroughBackwardIsBitIdentical) {
  QSIM_REQUIRE_TORCH_CUDA();
  const Encoding e = make_encoding(-0.4, 0.9, 8, Symmetry::asymmetric);
  for (const int64_t n : kSizes) {
    for (const torch::ScalarType type : kTypes) {
      const torch::Tensor x = adversarial(n, e, static_cast<uint64_t>(n)).to(type);
      const torch::Tensor y = fake_quantize_static(x, e);
      const torch::Tensor g = torch::randn({n}).to(type);
      SCOPED_TRACE(testing::Message() << "n=" << n << " " << type);
      EXPECT_TRUE(same_bits(fake_quantize_static_backward(y.to(kCuda), g.to(kCuda), {e}, std::nullopt),
                            fake_quantize_static_backward(y, g, {e}, std::nullopt)));
    }
  }
  // Through autograd: the device graph's gradient is the CPU graph's.
  const torch::Tensor x = adversarial(4099, e, 5);
  const torch::Tensor xc = x.clone().requires_grad_(true);
  const torch::Tensor xd = x.to(kCuda).requires_grad_(true);
  fake_quantize_static(xc, e).mul(torch::arange(4099, torch::kFloat)).sum().backward();
  fake_quantize_static(xd, e).mul(torch::arange(4099, torch::kFloat).to(kCuda)).sum().backward();
  EXPECT_TRUE(same_bits(xd.grad(), xc.grad()));
}

TEST(FakeQuantDispatchTest, LearnedForwardIsBitIdenticalInBothScaleModes) {
  QSIM_REQUIRE_TORCH_CUDA();
  const torch::Tensor min = torch::tensor({-0.6f, -1.1f, -0.05f});
  const torch::Tensor max = torch::tensor({0.9f, 0.4f, 2.5f});
  for (const ScaleMode mode : {ScaleMode::divide, ScaleMode::multiply_reciprocal}) {
    const LearnedGridParams cpu_grid = learned_grid_params(min, max, 8, Symmetry::asymmetric);
    const LearnedGridParams cuda_grid = learned_grid_params(min.to(kCuda), max.to(kCuda), 8, Symmetry::asymmetric);
    EXPECT_TRUE(same_bits(cuda_grid.delta, cpu_grid.delta));
    EXPECT_TRUE(same_bits(cuda_grid.offset, cpu_grid.offset));
    for (const torch::ScalarType type : kTypes) {
      const torch::Tensor x =
          adversarial(3 * 1025, make_encoding(-0.6, 0.9, 8, Symmetry::asymmetric), 9).view({3, 1025}).to(type);
      SCOPED_TRACE(testing::Message() << type);
      EXPECT_TRUE(same_bits(fake_quantize_learned(x.to(kCuda), cuda_grid, 0, mode),
                            fake_quantize_learned(x, cpu_grid, 0, mode)));
    }
  }
}

TEST(FakeQuantDispatchTest, LearnedBackwardGradientsMatchAndSumsAgreeTo1e6) {
  QSIM_REQUIRE_TORCH_CUDA();
  for (const Symmetry symmetry : {Symmetry::asymmetric, Symmetry::symmetric, Symmetry::unsigned_symmetric}) {
    for (const int64_t n : {7, 4099, 1 << 20}) {
      const torch::Tensor min = torch::tensor({symmetry == Symmetry::unsigned_symmetric ? 0.0f : -0.8f});
      const torch::Tensor max = torch::tensor({1.2f});
      const torch::Tensor x = adversarial(n, make_encoding(-0.8, 1.2, 8, Symmetry::asymmetric), 17)
                                   .nan_to_num(0.0, 1e4, -1e4);  // finite x/Δ, else 0·Inf makes §5.4's sums NaN
      const torch::Tensor g = torch::randn({n});
      RangeLearningOptions options;
      options.symmetry = symmetry;
      const RangeLearningGrads cpu = range_learning_backward(x, g, min, max, options);
      const RangeLearningGrads gpu = range_learning_backward(x.to(kCuda), g.to(kCuda), min.to(kCuda), max.to(kCuda), options);
      SCOPED_TRACE(testing::Message() << to_string(symmetry) << " n=" << n);
      EXPECT_TRUE(same_bits(gpu.grad_input, cpu.grad_input));
      EXPECT_TRUE(close_relative(gpu.grad_max, cpu.grad_max, 1e-6, 1e-9 * g.abs().sum().item<double>()));
      ASSERT_EQ(gpu.grad_min.defined(), cpu.grad_min.defined());
      if (cpu.grad_min.defined()) {
        EXPECT_TRUE(close_relative(gpu.grad_min, cpu.grad_min, 1e-6, 1e-9 * g.abs().sum().item<double>()));
      }
    }
  }
}

TEST(FakeQuantDispatchTest, RangeLearningThroughAutogradOnTheDevice) {
  QSIM_REQUIRE_TORCH_CUDA();
  const torch::Tensor x = torch::randn({4, 300});
  const torch::Tensor w = torch::randn({4, 300});
  RangeLearningOptions options;
  auto run = [&](torch::Device device) {
    const torch::Tensor min = torch::tensor({-1.5f}, torch::TensorOptions().device(device)).requires_grad_(true);
    const torch::Tensor max = torch::tensor({1.7f}, torch::TensorOptions().device(device)).requires_grad_(true);
    const torch::Tensor xin = x.to(device).requires_grad_(true);
    const torch::Tensor y = range_learning_quantize(xin, min, max, options);
    (y * w.to(device)).sum().backward();
    return std::vector<torch::Tensor>{y, xin.grad(), min.grad(), max.grad()};
  };
  const auto cpu = run(torch::kCPU);
  const auto gpu = run(kCuda);
  EXPECT_TRUE(same_bits(gpu[0], cpu[0]));
  EXPECT_TRUE(same_bits(gpu[1], cpu[1]));
  EXPECT_TRUE(close_relative(gpu[2], cpu[2], 1e-6, 1e-6));
  EXPECT_TRUE(close_relative(gpu[3], cpu[3], 1e-6, 1e-6));
}

TEST(FakeQuantDispatchTest, MixedDevicesAreValueErrorsNamingBothDevices) {
  QSIM_REQUIRE_TORCH_CUDA();
  const torch::Tensor x = torch::randn({64}, torch::TensorOptions().device(kCuda));
  const LearnedGridParams host_grid = learned_grid_params(torch::tensor({-1.0f}), torch::tensor({1.0f}), 8,
                                                          Symmetry::asymmetric);
  auto expect_both = [](const std::function<void()>& call) {
    try {
      call();
      ADD_FAILURE() << "no ValueError";
    } catch (const ValueError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("cpu"), std::string::npos) << message;
      EXPECT_NE(message.find("cuda:0"), std::string::npos) << message;
    }
  };
  expect_both([&] { fake_quantize_learned(x, host_grid, std::nullopt); });
  expect_both([&] { range_learning_quantize(x, torch::tensor({-1.0f}), torch::tensor({1.0f}), {}); });
  expect_both([&] { fake_quantize_static_backward(x, torch::randn({64}), {make_encoding(-1, 1, 8, Symmetry::asymmetric)}, std::nullopt); });
  torch::Tensor host_out = torch::empty({64});
  expect_both([&] { fake_quantize_static_out(x, {make_encoding(-1, 1, 8, Symmetry::asymmetric)}, std::nullopt, host_out); });
}

}  // namespace
}  // namespace qsim::quant
