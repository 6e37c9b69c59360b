#pragma once

// Per-element fake-quant math (quantization-semantics.md §2, §5.3): one definition
// shared by the CPU loop tails, the future CUDA kernels and the tests. Everything is
// float32; callers derive the grid parameters (in double) once per tensor/channel.
// Build with -ffp-contract=off so that no multiply-add is fused: results are
// bit-exact and reproducible across compilers and vector widths.

#include <cmath>

#if defined(__CUDACC__)
#define QSIM_HOST_DEVICE __host__ __device__
#else
#define QSIM_HOST_DEVICE
#endif

namespace qsim::kernels {

/// Round to nearest, ties away from zero: exactly C's roundf (semantics §0), written
/// with trunc so the vector path can mirror it (the fraction t − trunc(t) is exact).
QSIM_HOST_DEVICE inline float round_away(float t) {
  const float whole = truncf(t);
  return fabsf(t - whole) >= 0.5f ? whole + copysignf(1.0f, t) : whole;
}

/// Round to nearest, ties to even (IEEE default mode; torch.round, std::nearbyint).
QSIM_HOST_DEVICE inline float round_even(float t) {
#if defined(__CUDA_ARCH__)
  return rintf(t);
#else
  return std::nearbyint(t);
#endif
}

/// Static grid (§2) integer code, on the float path: clamp the real value to
/// [lo, hi], divide by Δ (never multiply by 1/Δ), subtract o, round ties away.
/// No integer clamp: a non-aligned range can give −1 or N+1. NaN stays NaN.
QSIM_HOST_DEVICE inline float static_code(float x, float lo, float hi, float delta, float offset) {
  float c = x < lo ? lo : x;
  c = c > hi ? hi : c;
  return round_away(c / delta - offset);
}

/// Static grid quantize–dequantize: Δ·(q + o).
QSIM_HOST_DEVICE inline float static_qdq(float x, float lo, float hi, float delta, float offset) {
  return delta * (static_code(x, lo, hi, delta, offset) + offset);
}

/// Static-grid straight-through gradient (§2): g where min ≤ y ≤ max (y is the
/// saved output), else g·0 — a multiply, so the sign of zero follows g as in torch.
QSIM_HOST_DEVICE inline float static_ste_grad(float y, float g, float min, float max) {
  return g * ((y >= min && y <= max) ? 1.0f : 0.0f);
}

/// Learned grid (§5.3) per-element state. `t` is x/Δ (divide mode, AIMET) or
/// x·(1/Δ) (multiply mode, PyTorch's fake-quant ops); r = round_even(t) − o;
/// q = clamp(r, 0, N) (integer-domain clamp); y = (q + o)·Δ; k = [0 ≤ r ≤ N].
struct LearnedElement {
  float t;
  float q;
  float y;
  float k;
};

QSIM_HOST_DEVICE inline LearnedElement learned_element(float x, float delta, float inv_delta, float offset,
                                                       float steps, bool multiply) {
  LearnedElement e;
  e.t = multiply ? x * inv_delta : x / delta;
  const float r = round_even(e.t) - offset;
  float q = r < 0.0f ? 0.0f : r;
  q = q > steps ? steps : q;
  e.q = q;
  e.y = (q + offset) * delta;
  e.k = (r >= 0.0f && r <= steps) ? 1.0f : 0.0f;
  return e;
}

}  // namespace qsim::kernels
