#pragma once

// AdaRound's per-element steps (Nagel et al., ICML 2020), free of LibTorch. The
// weight of a layer is a grid of rows (output channels) × cols; row r has its own
// grid (Δ_r and the code range [code_min_r, code_max_r], the value of code k being
// Δ_r·k), or every row shares row 0's (per-tensor encodings). With σ = sigmoid(V)
// computed by the caller (ATen's vectorized sigmoid):
//   h    = clamp(σ·(ζ − γ) + γ, 0, 1)                   (rectified sigmoid)
//   w    = Δ·clamp(base + h, code_min, code_max)        (base = floor(w_float/Δ))
//   reg  = Σ (1 − |2h − 1|^β)                           (the rounding regularizer)
// The gradient of V follows the clamps (zero where one is active), as autograd
// through these formulas gives. The caller splits the rows into chunks for its
// threads; every function works on rows [0, rows) of the pointers it gets.

#include <cstdint>

namespace qsim::kernels::cpu {

/// The rectified sigmoid's stretch (Nagel et al.: ζ = 1.1, γ = −0.1).
inline constexpr float kAdaroundZeta = 1.1f;
inline constexpr float kAdaroundGamma = -0.1f;

/// The grid of one row: value of code k is delta·k, k ∈ [code_min, code_max].
struct AdaroundGrid {
  float delta;
  float code_min;
  float code_max;
};

/// Where a block of rows lives: `cols` elements per row; `grids` has one entry per
/// row, or one for all rows when `per_row` is false.
struct AdaroundRows {
  int64_t rows;
  int64_t cols;
  const AdaroundGrid* grids;
  bool per_row;
};

/// Soft weights w and a = |2h − 1| (for the regularizer's power; may be null).
void adaround_soft_weight(const AdaroundRows& layout, const float* sigma, const float* base, float* w, float* a);

/// Hard weights: h = 1 where V ≥ 0, else 0 (Δ·clamp(base + h, code_min, code_max)).
void adaround_hard_weight(const AdaroundRows& layout, const float* v, const float* base, float* w);

/// torch.optim.Adam's step with its bias corrections precomputed:
/// V −= lr/(1 − β1^t) · m / (sqrt(s)/sqrt(1 − β2^t) + eps).
struct AdamStep {
  float lr;
  float beta1;
  float beta2;
  float eps;
  float bias_correction1;       ///< 1 − β1^t
  float sqrt_bias_correction2;  ///< sqrt(1 − β2^t)
};

/// dL/dV from dL/dw (`grad_w`) and, when reg_weight > 0, λ·d(reg)/dV with β = `beta`
/// (`a_pow` = |2h − 1|^(β−1) elementwise, from the caller); then one Adam step on
/// V, m and s in place. Returns Σ (1 − |2h − 1|^β) over the rows when reg_weight > 0
/// (from a and a_pow; `a` as adaround_soft_weight wrote it), else 0.
double adaround_adam_step(const AdaroundRows& layout, const float* grad_w, const float* sigma, const float* base,
                          const float* a, const float* a_pow, float reg_weight, float beta, const AdamStep& adam,
                          float* v, float* m, float* s);

/// V such that h(V) = frac exactly where frac ∈ (0, 1), from w_float: frac = w/Δ − base
/// (V = −log((ζ − γ)/(frac − γ) − 1)), and base = floor(w/Δ).
void adaround_init(const AdaroundRows& layout, const float* w_float, float* base, float* v);

}  // namespace qsim::kernels::cpu
