#include "qsim/quant/range_learning.hpp"

#include <cmath>
#include <vector>

#include <ATen/ATen.h>

#include "detail/check.hpp"

namespace qsim::quant {
namespace {

constexpr std::string_view kWhat = "range_learning";

std::vector<float> values_of(const at::Tensor& t) {
  const at::Tensor f = t.detach().to(at::kFloat).contiguous().reshape({-1});
  return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

void check_range(const at::Tensor& min, const at::Tensor& max) {
  QSIM_CHECK(min.defined() && max.defined(), ValueError, "{}: min/max undefined", kWhat);
  QSIM_CHECK(min.numel() == max.numel() && min.numel() > 0, ValueError,
             "{}: min and max must hold the same number (> 0) of values, got {} and {}", kWhat, min.numel(),
             max.numel());
  QSIM_CHECK(at::isfinite(min).all().item<bool>() && at::isfinite(max).all().item<bool>(), ValueError,
             "{}: min and max must be finite", kWhat);
  QSIM_CHECK((min <= max).all().item<bool>(), ValueError, "{}: min must not exceed max", kWhat);
}

bool is_symmetric(Symmetry s) { return s != Symmetry::asymmetric; }

void check_devices(const at::Tensor& min, const at::Tensor& max) {
  QSIM_CHECK(min.device() == max.device(), ValueError, "{}: min is on device {} but max is on device {}", kWhat,
             min.device().str(), max.device().str());
}

// learned_grid_params for ranges on a CUDA device: the same float32 operations as
// the host loop below, as ATen ops on the device (bit-identical: IEEE division and
// round-half-even on both), with no copy to the host. The range checks, which
// would each stall the host, are left out (docs/design.md, "CUDA dispatch").
LearnedGridParams device_grid_params(const at::Tensor& min, const at::Tensor& max, LearnedMode mode, float steps) {
  const at::Tensor m = min.detach().to(at::kFloat).reshape({-1});
  const at::Tensor big_m = max.detach().to(at::kFloat).reshape({-1});
  at::Tensor delta, offset;
  switch (mode) {
    case LearnedMode::signed_symmetric:
      delta = at::maximum(m.abs(), big_m.abs()) / std::floor(steps / 2.0f);
      offset = at::full_like(m, -std::ceil(steps / 2.0f));
      break;
    case LearnedMode::unsigned_symmetric:
      delta = (big_m - m) / steps;
      offset = m / delta;
      break;
    case LearnedMode::asymmetric:
      delta = (big_m - m) / steps;
      offset = at::rsub(at::clamp(at::round(at::neg(m) / delta), 0.0f, steps), 0.0f);  // 0 − zp: +0.0 for zp 0
      break;
  }
  return {delta.contiguous(), offset.contiguous(), static_cast<double>(steps)};
}

// The §5.4 gradients from the device sums, in double on the device (as the host
// loop in range_learning_backward).
RangeLearningGrads device_grads(const LearnedBackward& sums, const at::Tensor& min, const at::Tensor& max,
                                const LearnedGridParams& grid, LearnedMode mode) {
  const at::Tensor m = min.detach().to(at::kDouble).reshape({-1});
  const at::Tensor big_m = max.detach().to(at::kDouble).reshape({-1});
  const double steps = grid.steps;
  at::Tensor dmin, dmax;
  switch (mode) {
    case LearnedMode::asymmetric: {
      const at::Tensor width = big_m - m;
      const at::Tensor t1 = sums.sum_s / steps;
      const at::Tensor t2 = (grid.delta.to(at::kDouble) * sums.sum_z) * steps / (width * width);
      dmin = at::neg(t1) + big_m * t2;
      dmax = t1 - m * t2;
      break;
    }
    case LearnedMode::signed_symmetric:
      dmax = sums.sum_s / std::floor(steps / 2.0);
      dmin = at::neg(dmax);
      break;
    case LearnedMode::unsigned_symmetric:
      dmax = sums.sum_s / steps;
      break;
  }
  RangeLearningGrads out;
  out.grad_input = sums.grad_input;
  out.grad_max = dmax.to(at::kFloat).reshape(max.sizes()).to(max.scalar_type());
  if (dmin.defined()) out.grad_min = dmin.to(at::kFloat).reshape(min.sizes()).to(min.scalar_type());
  return out;
}

// Per-channel double sums added up per group (the identity without groups).
at::Tensor sum_groups(const at::Tensor& per_channel, const at::Tensor& channel_groups, int64_t groups) {
  if (!channel_groups.defined()) return per_channel;
  const at::Tensor index = channel_groups.to(per_channel.device(), at::kLong);
  return at::zeros({groups}, per_channel.options()).index_add_(0, index, per_channel);
}

void check_groups(const at::Tensor& channel_groups, const RangeLearningOptions& options) {
  if (!channel_groups.defined()) return;
  QSIM_CHECK(options.channel_axis.has_value(), ValueError, "{}: channel groups need a channel axis", kWhat);
  QSIM_CHECK(channel_groups.dim() == 1 && !at::isFloatingType(channel_groups.scalar_type()), ValueError,
             "{}: channel groups must be a 1-D integer tensor", kWhat);
}

}  // namespace

LearnedGridParams expand_groups(const LearnedGridParams& grid, const at::Tensor& channel_groups) {
  if (!channel_groups.defined()) return grid;
  const at::Tensor index = channel_groups.to(grid.delta.device(), at::kLong);
  return {grid.delta.index_select(0, index).contiguous(), grid.offset.index_select(0, index).contiguous(),
          grid.steps};
}

void gate_learned_range_(const at::Tensor& min, const at::Tensor& max) {
  at::NoGradGuard no_grad;
  min.clamp_max_(0.0);
  max.clamp_min_(0.0);
  max.copy_(at::maximum(max, min + kGateEpsilon));
}

LearnedMode learned_mode(const at::Tensor& min, const at::Tensor& max, Symmetry symmetry) {
  if (!is_symmetric(symmetry)) return LearnedMode::asymmetric;
  if (symmetry != Symmetry::unsigned_symmetric) return LearnedMode::signed_symmetric;
  const bool any_signed = ((min < 0) & (max > 0)).any().item<bool>();
  return any_signed ? LearnedMode::signed_symmetric : LearnedMode::unsigned_symmetric;
}

LearnedGridParams learned_grid_params(const at::Tensor& min, const at::Tensor& max, int bitwidth,
                                      Symmetry symmetry) {
  check_bitwidth(bitwidth, symmetry, kWhat);
  check_devices(min, max);
  const auto steps = static_cast<float>(grid_steps(bitwidth, symmetry));
  if (min.is_cuda()) return device_grid_params(min, max, learned_mode(min, max, symmetry), steps);
  check_range(min, max);
  const LearnedMode mode = learned_mode(min, max, symmetry);
  const std::vector<float> m = values_of(min);
  const std::vector<float> big_m = values_of(max);
  std::vector<float> delta(m.size()), offset(m.size());
  for (size_t c = 0; c < m.size(); ++c) {
    switch (mode) {
      case LearnedMode::signed_symmetric: {
        const float abs_max = std::max(std::fabs(m[c]), std::fabs(big_m[c]));
        delta[c] = abs_max / std::floor(steps / 2.0f);
        offset[c] = -std::ceil(steps / 2.0f);
        break;
      }
      case LearnedMode::unsigned_symmetric:
        delta[c] = (big_m[c] - m[c]) / steps;
        offset[c] = m[c] / delta[c];  // not rounded (§5.3); 0 when min == 0
        break;
      case LearnedMode::asymmetric: {
        delta[c] = (big_m[c] - m[c]) / steps;
        const float zero_point = std::clamp(std::nearbyint(-m[c] / delta[c]), 0.0f, steps);
        offset[c] = 0.0f - zero_point;  // +0.0 when the zero point is 0
        break;
      }
    }
    QSIM_CHECK(std::isfinite(delta[c]) && delta[c] > 0.0f, ValueError,
               "{}: range [{}, {}] gives scale {}; gate it first (gate_learned_range_)", kWhat, m[c], big_m[c],
               delta[c]);
  }
  return {at::tensor(delta), at::tensor(offset), static_cast<double>(steps)};
}

RangeLearningGrads range_learning_backward(const at::Tensor& x, const at::Tensor& grad, const at::Tensor& min,
                                           const at::Tensor& max, const RangeLearningOptions& options) {
  check_groups(options.channel_groups, options);
  const LearnedGridParams grid = learned_grid_params(min, max, options.bitwidth, options.symmetry);
  const LearnedMode mode = learned_mode(min, max, options.symmetry);
  const bool offset_in_sum = mode != LearnedMode::unsigned_symmetric;
  LearnedBackward sums = fake_quantize_learned_backward(x, grad, expand_groups(grid, options.channel_groups),
                                                        options.channel_axis, options.scale_mode, offset_in_sum);
  sums.sum_s = sum_groups(sums.sum_s, options.channel_groups, min.numel());
  sums.sum_z = sum_groups(sums.sum_z, options.channel_groups, min.numel());
  if (min.is_cuda()) return device_grads(sums, min, max, grid, mode);
  const std::vector<float> m = values_of(min);
  const std::vector<float> big_m = values_of(max);
  const std::vector<float> delta = values_of(grid.delta);
  const double steps = grid.steps;
  const double* s = sums.sum_s.data_ptr<double>();
  const double* z = sums.sum_z.data_ptr<double>();
  std::vector<float> dmin(m.size()), dmax(m.size());
  for (size_t c = 0; c < m.size(); ++c) {
    switch (mode) {
      case LearnedMode::asymmetric: {
        const double width = static_cast<double>(big_m[c]) - m[c];
        const double t1 = s[c] / steps;
        const double t2 = steps * (static_cast<double>(delta[c]) * z[c]) / (width * width);
        dmin[c] = static_cast<float>(-t1 + big_m[c] * t2);
        dmax[c] = static_cast<float>(t1 - m[c] * t2);
        break;
      }
      case LearnedMode::signed_symmetric: {
        const double g = s[c] / std::floor(steps / 2.0);
        dmax[c] = static_cast<float>(g);
        dmin[c] = static_cast<float>(-g);
        break;
      }
      case LearnedMode::unsigned_symmetric:
        dmax[c] = static_cast<float>(s[c] / steps);
        break;
    }
  }
  RangeLearningGrads out;
  out.grad_input = sums.grad_input;
  out.grad_max = at::tensor(dmax).reshape(max.sizes()).to(max.scalar_type());
  if (mode != LearnedMode::unsigned_symmetric) out.grad_min = at::tensor(dmin).reshape(min.sizes()).to(min.scalar_type());
  return out;
}

}  // namespace qsim::quant
