// kernels/cpu/quantize_u8 (the int8 backend's input codes and output values):
// round half to even, saturation at 0 and 255, NaN to a code in range, and the
// dequantized value exactly (q − zp)·Δ.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/cpu/fake_quant_cpu.hpp"
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

namespace qsim::kernels::cpu {
namespace {

// The AVX2 loops against the scalar ones on values with many exact ties (k/2 steps),
// the clamping range and beyond, NaN and infinities, at lengths that leave tails.
TEST(QuantizeU8Test, Avx2AndScalarAgreeBitForBit) {
  // NaN and infinities first, so that the vector loop meets them (and again in the tail).
  std::vector<float> x = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()};
  for (int k = -700; k <= 700; ++k) x.push_back(0.25f * static_cast<float>(k) * 0.5f);
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  x.push_back(-std::numeric_limits<float>::infinity());
  for (const int64_t n : {int64_t{0}, int64_t{7}, int64_t{8}, int64_t{13}, static_cast<int64_t>(x.size())}) {
    std::vector<uint8_t> fast(static_cast<std::size_t>(n)), slow(static_cast<std::size_t>(n));
    std::vector<float> back_fast(static_cast<std::size_t>(n)), back_slow(static_cast<std::size_t>(n));
    quantize_u8(x.data(), fast.data(), n, 0.25f, 37);
    dequantize_u8(fast.data(), back_fast.data(), n, 0.25f, 37);
    set_avx2_enabled(false);
    quantize_u8(x.data(), slow.data(), n, 0.25f, 37);
    dequantize_u8(slow.data(), back_slow.data(), n, 0.25f, 37);
    set_avx2_enabled(true);
    EXPECT_EQ(fast, slow) << n;
    EXPECT_EQ(back_fast, back_slow) << n;
  }
}

}  // namespace
}  // namespace qsim::kernels::cpu
