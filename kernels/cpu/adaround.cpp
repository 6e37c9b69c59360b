#include "kernels/cpu/adaround.hpp"

#include <algorithm>
#include <cmath>

namespace qsim::kernels::cpu {
namespace {

constexpr float kStretch = kAdaroundZeta - kAdaroundGamma;

const AdaroundGrid& grid_of(const AdaroundRows& layout, int64_t row) {
  return layout.grids[layout.per_row ? row : 0];
}

}  // namespace

void adaround_soft_weight(const AdaroundRows& layout, const float* sigma, const float* base, float* w, float* a) {
  for (int64_t r = 0; r < layout.rows; ++r) {
    const AdaroundGrid g = grid_of(layout, r);
    const int64_t begin = r * layout.cols;
    for (int64_t i = begin; i < begin + layout.cols; ++i) {
      const float h = std::min(1.0f, std::max(0.0f, sigma[i] * kStretch + kAdaroundGamma));
      w[i] = g.delta * std::min(g.code_max, std::max(g.code_min, base[i] + h));
      if (a != nullptr) a[i] = std::fabs(2.0f * h - 1.0f);
    }
  }
}

void adaround_hard_weight(const AdaroundRows& layout, const float* v, const float* base, float* w) {
  for (int64_t r = 0; r < layout.rows; ++r) {
    const AdaroundGrid g = grid_of(layout, r);
    const int64_t begin = r * layout.cols;
    for (int64_t i = begin; i < begin + layout.cols; ++i) {
      const float h = v[i] >= 0.0f ? 1.0f : 0.0f;
      w[i] = g.delta * std::min(g.code_max, std::max(g.code_min, base[i] + h));
    }
  }
}

double adaround_adam_step(const AdaroundRows& layout, const float* grad_w, const float* sigma, const float* base,
                          const float* a, const float* a_pow, float reg_weight, float beta, const AdamStep& adam,
                          float* v, float* m, float* s) {
  const bool reg = reg_weight > 0.0f;
  const float step = adam.lr / adam.bias_correction1;
  double reg_sum = 0.0;
  for (int64_t r = 0; r < layout.rows; ++r) {
    const AdaroundGrid g = grid_of(layout, r);
    const int64_t begin = r * layout.cols;
    float row_sum = 0.0f;
    for (int64_t i = begin; i < begin + layout.cols; ++i) {
      const float raw = sigma[i] * kStretch + kAdaroundGamma;
      const float h = std::min(1.0f, std::max(0.0f, raw));
      // dh/dV through the rectified sigmoid; zero where the clamp to [0, 1] holds.
      const float dh_dv = (raw > 0.0f && raw < 1.0f) ? kStretch * sigma[i] * (1.0f - sigma[i]) : 0.0f;
      const float code = base[i] + h;
      const float dw_dh = (code > g.code_min && code < g.code_max) ? g.delta : 0.0f;
      float dh = grad_w[i] * dw_dh;
      if (reg) {
        // d/dh (1 − |2h − 1|^β) = −2β·|2h − 1|^(β−1)·sign(2h − 1)
        const float sign = 2.0f * h - 1.0f >= 0.0f ? 1.0f : -1.0f;
        dh += reg_weight * (-2.0f * beta * a_pow[i] * sign);
        row_sum += 1.0f - a[i] * a_pow[i];
      }
      const float grad = dh * dh_dv;
      m[i] = adam.beta1 * m[i] + (1.0f - adam.beta1) * grad;
      s[i] = adam.beta2 * s[i] + (1.0f - adam.beta2) * grad * grad;
      v[i] -= step * m[i] / (std::sqrt(s[i]) / adam.sqrt_bias_correction2 + adam.eps);
    }
    reg_sum += row_sum;
  }
  return reg_sum;
}

void adaround_init(const AdaroundRows& layout, const float* w_float, float* base, float* v) {
  for (int64_t r = 0; r < layout.rows; ++r) {
    const AdaroundGrid g = grid_of(layout, r);
    const int64_t begin = r * layout.cols;
    for (int64_t i = begin; i < begin + layout.cols; ++i) {
      const float scaled = w_float[i] / g.delta;
      base[i] = std::floor(scaled);
      const float frac = scaled - base[i];  // [0, 1)
      v[i] = -std::log(kStretch / (frac - kAdaroundGamma) - 1.0f);
    }
  }
}

}  // namespace qsim::kernels::cpu
