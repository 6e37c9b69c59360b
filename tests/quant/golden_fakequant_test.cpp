// Bit-exact parity with PyTorch's fake-quant ops (golden/fakequant, README §5):
// the learned grid with ScaleMode::multiply_reciprocal is PyTorch's arithmetic;
// with the AIMET default (divide) it agrees wherever the scales are powers of two.
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "qsim/io/safetensors.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "support/paths.hpp"

namespace qsim::quant {
namespace {

struct Golden {
  nlohmann::json index;
  io::SafetensorsFile tensors;
};

const Golden& golden() {
  static const Golden g = [] {
    Golden out;
    const std::string dir = test::golden_dir() + "/fakequant";
    std::ifstream in(dir + "/fake_quant.json");
    out.index = nlohmann::json::parse(in);
    out.tensors = io::load_safetensors(dir + "/fake_quant.safetensors");
    return out;
  }();
  return g;
}

at::Tensor tensor(const nlohmann::json& c, const std::string& field) {
  return golden().tensors.at(c["tensors"][field].get<std::string>());
}

// Bitwise equality, so that −0.0 vs +0.0 and NaN payloads count.
int64_t bit_mismatches(const at::Tensor& got, const at::Tensor& expected) {
  EXPECT_EQ(got.sizes(), expected.sizes());
  const at::Tensor a = got.contiguous();
  const at::Tensor b = expected.contiguous();
  const auto* pa = a.data_ptr<float>();
  const auto* pb = b.data_ptr<float>();
  int64_t bad = 0;
  for (int64_t i = 0; i < a.numel(); ++i) bad += std::memcmp(pa + i, pb + i, sizeof(float)) != 0;
  return bad;
}

bool is_power_of_two(const at::Tensor& scale) {
  const at::Tensor s = scale.to(at::kDouble).contiguous();
  for (int64_t i = 0; i < s.numel(); ++i) {
    int exp = 0;
    if (std::frexp(s.data_ptr<double>()[i], &exp) != 0.5) return false;
  }
  return true;
}

// PyTorch (scale, zero_point, quant_min, quant_max) as our learned grid:
// Δ = f32(scale), o = quant_min − zero_point, N = quant_max − quant_min.
struct TorchCase {
  LearnedGridParams grid;
  std::optional<int64_t> axis;
};

std::optional<TorchCase> integer_zero_point_case(const nlohmann::json& c) {
  const auto op = c["op"].get<std::string>();
  const auto qmin = c["quant_min"].get<double>();
  const auto qmax = c["quant_max"].get<double>();
  TorchCase t;
  t.grid.steps = qmax - qmin;
  if (op.rfind("torch.fake_quantize_per_tensor_affine", 0) == 0) {
    t.grid.delta = at::tensor({static_cast<float>(c["scale"].get<double>())});
    t.grid.offset = at::tensor({static_cast<float>(qmin - c["zero_point"].get<double>())});
    return t;
  }
  if (op.rfind("torch.fake_quantize_per_channel_affine", 0) == 0) {
    const at::Tensor zp = tensor(c, "zero_point");
    if (at::isFloatingType(zp.scalar_type())) return std::nullopt;  // float qparams path: not emulated
    t.grid.delta = tensor(c, "scale").to(at::kFloat);
    t.grid.offset = (qmin - zp.to(at::kDouble)).to(at::kFloat);
    t.axis = c["axis"].get<int64_t>();
    return t;
  }
  return std::nullopt;
}

TEST(GoldenFakeQuantTest, MultiplyReciprocalMatchesTorchBitForBit) {
  int checked = 0;
  for (const auto& c : golden().index["cases"]) {
    const auto t = integer_zero_point_case(c);
    if (!t) continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const at::Tensor x = tensor(c, "input");
    const at::Tensor y = fake_quantize_learned(x, t->grid, t->axis, ScaleMode::multiply_reciprocal);
    EXPECT_EQ(bit_mismatches(y, tensor(c, "output")), 0);
    const LearnedBackward b = fake_quantize_learned_backward(x, tensor(c, "grad_output"), t->grid, t->axis,
                                                             ScaleMode::multiply_reciprocal, true);
    EXPECT_EQ(bit_mismatches(b.grad_input, tensor(c, "grad_input")), 0);
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no integer-zero-point fake-quant case in the fixture";
}

TEST(GoldenFakeQuantTest, NegativeZeroInputGivesPositiveZero) {
  const LearnedGridParams grid{at::tensor({0.05f}), at::tensor({-128.0f}), 255.0};
  const at::Tensor y = fake_quantize_learned(at::tensor({-0.0f}), grid, std::nullopt, ScaleMode::multiply_reciprocal);
  EXPECT_FALSE(std::signbit(y.item<float>()));
}

TEST(GoldenFakeQuantTest, AimetDivideMatchesTorchOnPowerOfTwoScales) {
  int checked = 0;
  for (const auto& c : golden().index["cases"]) {
    const auto t = integer_zero_point_case(c);
    if (!t || !is_power_of_two(t->grid.delta)) continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const at::Tensor x = tensor(c, "input");
    EXPECT_EQ(bit_mismatches(fake_quantize_learned(x, t->grid, t->axis, ScaleMode::divide), tensor(c, "output")), 0);
    const LearnedBackward b =
        fake_quantize_learned_backward(x, tensor(c, "grad_output"), t->grid, t->axis, ScaleMode::divide, true);
    EXPECT_EQ(bit_mismatches(b.grad_input, tensor(c, "grad_input")), 0);
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no power-of-two-scale case in the fixture";
}

// The learnable op's forward uses clamp(nearbyint(zero_point)); with an in-range
// integer zero point it is the same grid.
TEST(GoldenFakeQuantTest, LearnableForwardWithIntegerZeroPointMatchesTorch) {
  int checked = 0;
  for (const auto& c : golden().index["cases"]) {
    if (c["op"].get<std::string>().rfind("torch._fake_quantize_learnable_per_tensor_affine", 0) != 0) continue;
    const float zp = tensor(c, "zero_point").item<float>();
    const auto qmin = c["quant_min"].get<double>();
    const auto qmax = c["quant_max"].get<double>();
    if (zp != std::nearbyint(zp) || zp < qmin || zp > qmax) continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    const LearnedGridParams grid{tensor(c, "scale").to(at::kFloat).reshape({1}),
                                 at::tensor({static_cast<float>(qmin - zp)}), qmax - qmin};
    const at::Tensor y = fake_quantize_learned(tensor(c, "input"), grid, std::nullopt, ScaleMode::multiply_reciprocal);
    EXPECT_EQ(bit_mismatches(y, tensor(c, "output")), 0);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace qsim::quant
