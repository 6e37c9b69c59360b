#pragma once

// 8-bit codes and back for the integer backend (sim/int8_backend): the quint8 value
// of x on an asymmetric grid, q = clamp(round_half_even(x / Δ) + zp, 0, 255) — the
// code at::quantize_per_tensor computes — and its value (q − zp)·Δ, free of
// LibTorch. The caller splits the range into chunks (at::parallel_for); AVX2 paths
// (chosen at run time, bit-identical to the scalar loops) do eight at a time.

#include <cstdint>

namespace qsim::kernels::cpu {

/// q[i] for x[0, n); `delta` > 0, zero_point in [0, 255].
void quantize_u8(const float* x, uint8_t* q, int64_t n, float delta, int32_t zero_point);

/// y[i] = (q[i] − zero_point)·delta for q[0, n).
void dequantize_u8(const uint8_t* q, float* y, int64_t n, float delta, int32_t zero_point);

}  // namespace qsim::kernels::cpu
