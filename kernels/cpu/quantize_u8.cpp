#include "kernels/cpu/quantize_u8.hpp"

#include <algorithm>
#include <cmath>

namespace qsim::kernels::cpu {

void quantize_u8(const float* x, uint8_t* q, int64_t n, float delta, int32_t zero_point) {
  const float zp = static_cast<float>(zero_point);
  for (int64_t i = 0; i < n; ++i) {
    // nearbyint: round half to even under the default rounding mode, as ATen's quantizer.
    const float code = std::nearbyint(x[i] / delta) + zp;
    q[i] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, code)));
  }
}

void dequantize_u8(const uint8_t* q, float* y, int64_t n, float delta, int32_t zero_point) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<int32_t>(q[i]) - zero_point) * delta;
}

}  // namespace qsim::kernels::cpu
