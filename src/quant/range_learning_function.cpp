// range_learning_quantize as a LibTorch autograd function: forward on the learned
// grid (§5.3), backward with the custom §5.4 gradients, recomputed from the saved
// input in one fused pass (no saved mask, no full-size temporaries).
#include <torch/autograd.h>
#include <torch/types.h>

#include "qsim/quant/range_learning.hpp"
#include "quant/kernel_dispatch.hpp"

namespace qsim::quant {
namespace {

c10::IValue axis_to_ivalue(std::optional<int64_t> axis) { return axis ? c10::IValue(*axis) : c10::IValue(); }

std::optional<int64_t> axis_from_ivalue(const c10::IValue& v) {
  return v.isNone() ? std::nullopt : std::optional<int64_t>(v.toInt());
}

class RangeLearningFunction : public torch::autograd::Function<RangeLearningFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& min, const torch::Tensor& max,
                               const RangeLearningOptions& options) {
    const LearnedGridParams grid = learned_grid_params(min, max, options.bitwidth, options.symmetry);
    ctx->save_for_backward({x});
    // Values, not the parameters: gating rewrites them in place before the next forward.
    ctx->saved_data["min"] = min.detach().clone();
    ctx->saved_data["max"] = max.detach().clone();
    ctx->saved_data["bitwidth"] = static_cast<int64_t>(options.bitwidth);
    ctx->saved_data["symmetry"] = static_cast<int64_t>(options.symmetry);
    ctx->saved_data["axis"] = axis_to_ivalue(options.channel_axis);
    ctx->saved_data["scale_mode"] = static_cast<int64_t>(options.scale_mode);
    ctx->saved_data["groups"] = options.channel_groups.defined() ? c10::IValue(options.channel_groups) : c10::IValue();
    return fake_quantize_learned(x, expand_groups(grid, options.channel_groups), options.channel_axis,
                                 options.scale_mode);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    RangeLearningOptions options;
    options.bitwidth = static_cast<int>(ctx->saved_data["bitwidth"].toInt());
    options.symmetry = static_cast<Symmetry>(ctx->saved_data["symmetry"].toInt());
    options.channel_axis = axis_from_ivalue(ctx->saved_data["axis"]);
    options.scale_mode = static_cast<ScaleMode>(ctx->saved_data["scale_mode"].toInt());
    const c10::IValue& groups = ctx->saved_data["groups"];
    if (!groups.isNone()) options.channel_groups = groups.toTensor();
    const torch::Tensor min = ctx->saved_data["min"].toTensor();
    const torch::Tensor max = ctx->saved_data["max"].toTensor();
    const RangeLearningGrads g = range_learning_backward(x, grads[0], min, max, options);
    return {g.grad_input, g.grad_min, g.grad_max, torch::Tensor()};
  }
};

}  // namespace

at::Tensor range_learning_quantize(const at::Tensor& x, const at::Tensor& min, const at::Tensor& max,
                                   const RangeLearningOptions& options) {
  if (x.defined() && min.defined()) detail::check_same_device(x, min, "the range (encoding min/max)", "range_learning");
  const bool needs_grad =
      at::GradMode::is_enabled() && (x.requires_grad() || min.requires_grad() || max.requires_grad());
  if (needs_grad) return RangeLearningFunction::apply(x, min, max, options);
  const LearnedGridParams grid = learned_grid_params(min, max, options.bitwidth, options.symmetry);
  return fake_quantize_learned(x, expand_groups(grid, options.channel_groups), options.channel_axis,
                               options.scale_mode);
}

}  // namespace qsim::quant
