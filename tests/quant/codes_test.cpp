// Code tensors (qsim/quant/codes.hpp): the quint8 form integer ops hand on. Values
// on a grid survive the round trip bit for bit, the codes are the ones
// at::quantize_per_tensor computes, and what is not a quint8 grid is refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/quant/codes.hpp"

namespace qsim::quant {
namespace {

const CodeGrid kGrid{0.0173f, 97};

TEST(CodesTest, ValuesOnTheGridRoundTripExactly) {
  const at::Tensor all = at::arange(256, at::kByte);
  const at::Tensor values = codes_to_float(as_code_tensor(all, kGrid));
  for (int64_t q = 0; q < 256; ++q) {
    // The simulation's value Δ·(q + o) with o = −zp.
    const float expected = kGrid.delta * (static_cast<float>(q) - static_cast<float>(kGrid.zero_point));
    ASSERT_EQ(values[q].item<float>(), expected) << "code " << q;
  }
  const at::Tensor back = float_to_codes(values, kGrid);
  EXPECT_TRUE(is_code_tensor(back));
  EXPECT_TRUE(grid_of(back) == kGrid);
  EXPECT_TRUE(at::equal(back.int_repr(), all));
}

TEST(CodesTest, CodesAreLibTorchsQuint8Codes) {
  torch::manual_seed(1);
  const at::Tensor x = torch::randn({7, 300}) * 3.0;  // past both ends of the grid
  const at::Tensor ours = float_to_codes(x, kGrid);
  const at::Tensor theirs = at::quantize_per_tensor(x, kGrid.delta, kGrid.zero_point, at::kQUInt8);
  EXPECT_TRUE(at::equal(ours.int_repr(), theirs.int_repr()));
  EXPECT_EQ(ours.sizes(), x.sizes());
}

TEST(CodesTest, WhatIsNotAQuint8GridIsRefused) {
  EXPECT_FALSE(is_code_tensor(at::zeros({3})));
  EXPECT_FALSE(is_code_tensor(at::quantize_per_tensor(at::zeros({3}), 0.1, 0, at::kQInt8)));
  EXPECT_THROW(grid_of(at::zeros({3})), ValueError);
  EXPECT_THROW(as_code_tensor(at::zeros({3}), kGrid), ValueError);  // float, not uint8
  EXPECT_THROW(as_code_tensor(at::zeros({3}, at::kByte), CodeGrid{0.1f, 300}), ValueError);
  EXPECT_THROW(as_code_tensor(at::zeros({3}, at::kByte), CodeGrid{-0.1f, 0}), ValueError);
  EXPECT_THROW(float_to_codes(at::zeros({3}, at::kDouble), kGrid), ValueError);
}

}  // namespace
}  // namespace qsim::quant
