// kernels/cpu/quantize_u8 (the int8 backend's input codes and output values):
// round half to even, saturation at 0 and 255, NaN to a code in range, and the
// dequantized value exactly (q − zp)·Δ.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/cpu/quantize_u8.hpp"

namespace qsim::kernels::cpu {
namespace {

TEST(QuantizeU8Test, RoundsHalfToEvenAndSaturates) {
  const float delta = 0.5f;
  const int32_t zp = 10;
  // x/Δ: 0, 0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → −0, −3.5 → −4, far below, far above.
  const std::vector<float> x = {0.0f, 0.25f, 0.75f, 1.25f, -0.25f, -1.75f, -100.0f, 1000.0f,
                                std::numeric_limits<float>::quiet_NaN()};
  std::vector<uint8_t> q(x.size());
  quantize_u8(x.data(), q.data(), static_cast<int64_t>(x.size()), delta, zp);
  const std::vector<uint8_t> expected = {10, 10, 12, 12, 10, 6, 0, 255};
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(q[i], expected[i]) << "x = " << x[i];
  EXPECT_LE(q.back(), 255) << "NaN gives some code, never undefined behaviour";
}

TEST(QuantizeU8Test, DequantizesEveryCodeExactly) {
  std::vector<uint8_t> q(256);
  for (int i = 0; i < 256; ++i) q[static_cast<std::size_t>(i)] = static_cast<uint8_t>(i);
  std::vector<float> y(256);
  dequantize_u8(q.data(), y.data(), 256, 0.03125f, 128);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[static_cast<std::size_t>(i)], static_cast<float>(i - 128) * 0.03125f);
  // Round trip: every code's value quantizes back to the code.
  std::vector<uint8_t> back(256);
  quantize_u8(y.data(), back.data(), 256, 0.03125f, 128);
  EXPECT_EQ(back, q);
}

}  // namespace
}  // namespace qsim::kernels::cpu
