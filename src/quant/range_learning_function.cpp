// range_learning_quantize as a LibTorch autograd function: forward on the learned
// grid (§5.3), backward with the custom §5.4 gradients, recomputed from the saved
// input in one fused pass (no saved mask, no full-size temporaries). Its input is
// kept as a recipe when it has one (a chained quantizer, qsim/quant/recipe.hpp).
#include "quant/range_learning_function.hpp"

#include <torch/types.h>

#include "qsim/quant/recipe.hpp"
#include "quant/kernel_dispatch.hpp"

namespace qsim::quant {
namespace detail {
namespace {

c10::IValue axis_to_ivalue(std::optional<int64_t> axis) { return axis ? c10::IValue(*axis) : c10::IValue(); }

std::optional<int64_t> axis_from_ivalue(const c10::IValue& v) {
  return v.isNone() ? std::nullopt : std::optional<int64_t>(v.toInt());
}

}  // namespace

RangeLearningOptions saved_options(const torch::autograd::AutogradContext& ctx) {
  const auto& data = ctx.saved_data;
  RangeLearningOptions options;
  options.bitwidth = static_cast<int>(data.at("bitwidth").toInt());
  options.symmetry = static_cast<Symmetry>(data.at("symmetry").toInt());
  options.channel_axis = axis_from_ivalue(data.at("axis"));
  options.scale_mode = static_cast<ScaleMode>(data.at("scale_mode").toInt());
  const c10::IValue& groups = data.at("groups");
  if (!groups.isNone()) options.channel_groups = groups.toTensor();
  return options;
}

at::Tensor learned_forward(const at::Tensor& x, const at::Tensor& min, const at::Tensor& max,
                           const RangeLearningOptions& options) {
  const LearnedGridParams grid = learned_grid_params(min, max, options.bitwidth, options.symmetry);
  return fake_quantize_learned(x, expand_groups(grid, options.channel_groups), options.channel_axis,
                               options.scale_mode);
}

torch::Tensor RangeLearningFunction::forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                             const torch::Tensor& min, const torch::Tensor& max,
                                             const RangeLearningOptions& options) {
  const UnpooledScope training;
  save_operands(ctx, {x});  // a chained quantizer keeps its input's recipe instead
  // Values, not the parameters: gating rewrites them in place before the next forward.
  ctx->saved_data["min"] = min.detach().clone();
  ctx->saved_data["max"] = max.detach().clone();
  ctx->saved_data["bitwidth"] = static_cast<int64_t>(options.bitwidth);
  ctx->saved_data["symmetry"] = static_cast<int64_t>(options.symmetry);
  ctx->saved_data["axis"] = axis_to_ivalue(options.channel_axis);
  ctx->saved_data["scale_mode"] = static_cast<int64_t>(options.scale_mode);
  ctx->saved_data["groups"] = options.channel_groups.defined() ? c10::IValue(options.channel_groups) : c10::IValue();
  return learned_forward(x, min, max, options);
}

torch::autograd::variable_list RangeLearningFunction::backward(torch::autograd::AutogradContext* ctx,
                                                               torch::autograd::variable_list grads) {
  const UnpooledScope training;
  const torch::Tensor x = load_operands(ctx)[0];
  const torch::Tensor min = ctx->saved_data["min"].toTensor();
  const torch::Tensor max = ctx->saved_data["max"].toTensor();
  const RangeLearningGrads g = range_learning_backward(x, grads[0], min, max, saved_options(*ctx));
  return {g.grad_input, g.grad_min, g.grad_max, torch::Tensor()};
}

}  // namespace detail

at::Tensor range_learning_quantize(const at::Tensor& x, const at::Tensor& min, const at::Tensor& max,
                                   const RangeLearningOptions& options) {
  if (x.defined() && min.defined()) detail::check_same_device(x, min, "the range (encoding min/max)", "range_learning");
  const bool needs_grad =
      at::GradMode::is_enabled() && (x.requires_grad() || min.requires_grad() || max.requires_grad());
  if (needs_grad) return detail::RangeLearningFunction::apply(x, min, max, options);
  return detail::learned_forward(x, min, max, options);
}

}  // namespace qsim::quant
