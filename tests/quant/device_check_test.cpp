// Device validation of the fake-quant ops, on any machine: tensors on LibTorch's
// "meta" device (no data, no GPU needed) stand in for a device the op cannot take,
// or for the second device of a mixed call.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "qsim/config.hpp"
#include "qsim/error.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"
#include "support/expect_error.hpp"

namespace qsim::quant {
namespace {

at::Tensor on_meta(const at::Tensor& t) { return t.to(at::kMeta); }

const Encoding kEncoding = make_encoding(-1.0, 1.0, 8, Symmetry::asymmetric);

TEST(DeviceCheckTest, InputOnAnUnsupportedDeviceNamesIt) {
  const at::Tensor x = on_meta(at::randn({8}));
  QSIM_EXPECT_THROW_MSG(fake_quantize_static(x, kEncoding), ValueError, {"fake_quantize_static", "device meta"});
  QSIM_EXPECT_THROW_MSG(quantize_static(x, {kEncoding}, std::nullopt, Symmetry::asymmetric), ValueError,
                        {"quantize_static", "device meta"});
}

TEST(DeviceCheckTest, LearnedGridOnAnotherDeviceNamesBoth) {
  const at::Tensor x = at::randn({8});
  LearnedGridParams grid = learned_grid_params(at::tensor({-1.0f}), at::tensor({1.0f}), 8, Symmetry::asymmetric);
  grid.delta = on_meta(grid.delta);
  QSIM_EXPECT_THROW_MSG(fake_quantize_learned(x, grid, std::nullopt), ValueError,
                        {"fake_quantize_learned", "delta", "device meta", "device cpu"});
}

TEST(DeviceCheckTest, RangeOnAnotherDeviceNamesBoth) {
  const at::Tensor x = at::randn({8});
  QSIM_EXPECT_THROW_MSG(range_learning_quantize(x, on_meta(at::tensor({-1.0f})), on_meta(at::tensor({1.0f})), {}),
                        ValueError, {"range_learning", "device meta", "device cpu"});
  QSIM_EXPECT_THROW_MSG(learned_grid_params(at::tensor({-1.0f}), on_meta(at::tensor({1.0f})), 8, Symmetry::asymmetric),
                        ValueError, {"min is on device cpu", "max is on device meta"});
}

TEST(DeviceCheckTest, GradientAndSavedOutputOnDifferentDevicesNameBoth) {
  const at::Tensor y = on_meta(at::randn({8}));
  QSIM_EXPECT_THROW_MSG(fake_quantize_static_backward(y, at::randn({8}), {kEncoding}, std::nullopt), ValueError,
                        {"fake_quantize_static_backward", "device meta", "device cpu"});
  const at::Tensor x = at::randn({8});
  const LearnedGridParams grid = learned_grid_params(at::tensor({-1.0f}), at::tensor({1.0f}), 8, Symmetry::asymmetric);
  QSIM_EXPECT_THROW_MSG(fake_quantize_learned_backward(x, on_meta(at::randn({8})), grid, std::nullopt,
                                                       ScaleMode::divide, true),
                        ValueError, {"fake_quantize_learned_backward", "device meta"});
}

TEST(DeviceCheckTest, OutputOnAnotherDeviceNamesBoth) {
  const at::Tensor x = at::randn({8});
  at::Tensor out = on_meta(at::empty({8}));
  QSIM_EXPECT_THROW_MSG(fake_quantize_static_out(x, {kEncoding}, std::nullopt, out), ValueError,
                        {"output", "device meta", "device cpu"});
}

}  // namespace
}  // namespace qsim::quant
