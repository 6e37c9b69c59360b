// range_learning_quantize as a LibTorch autograd function: forward on the learned
// grid (§5.3), backward with the custom §5.4 gradients, recomputed from the saved
// input in one fused pass (no saved mask, no full-size temporaries). Its node also
// serves recipes (qsim/quant/recipe.hpp): consumers of its output may keep a
// reference to what it saves instead of the output itself.
#include <string>

#include <torch/autograd.h>
#include <torch/types.h>

#include "qsim/quant/range_learning.hpp"
#include "qsim/quant/recipe.hpp"
#include "quant/kernel_dispatch.hpp"

namespace qsim::quant {
namespace {

c10::IValue axis_to_ivalue(std::optional<int64_t> axis) { return axis ? c10::IValue(*axis) : c10::IValue(); }

std::optional<int64_t> axis_from_ivalue(const c10::IValue& v) {
  return v.isNone() ? std::nullopt : std::optional<int64_t>(v.toInt());
}

RangeLearningOptions options_from(const torch::autograd::AutogradContext& ctx) {
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

// The learned-grid forward (§5.3), shared by the forward and by recipes.
at::Tensor learned_forward(const at::Tensor& x, const at::Tensor& min, const at::Tensor& max,
                           const RangeLearningOptions& options) {
  const LearnedGridParams grid = learned_grid_params(min, max, options.bitwidth, options.symmetry);
  return fake_quantize_learned(x, expand_groups(grid, options.channel_groups), options.channel_axis,
                               options.scale_mode);
}

class RangeLearningFunction : public torch::autograd::Function<RangeLearningFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& min, const torch::Tensor& max,
                               const RangeLearningOptions& options) {
    const detail::UnpooledScope training;
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

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const detail::UnpooledScope training;
    const torch::Tensor x = load_operands(ctx)[0];
    const torch::Tensor min = ctx->saved_data["min"].toTensor();
    const torch::Tensor max = ctx->saved_data["max"].toTensor();
    const RangeLearningGrads g = range_learning_backward(x, grads[0], min, max, options_from(*ctx));
    return {g.grad_input, g.grad_min, g.grad_max, torch::Tensor()};
  }
};

using RangeLearningNode = torch::autograd::CppNode<RangeLearningFunction>;

constexpr const char* kOperandCount = "qsim.operands";

std::string recipe_key(size_t i) { return "qsim.recipe." + std::to_string(i); }

}  // namespace

at::Tensor Recipe::recompute() const {
  const detail::UnpooledScope training;
  const at::Tensor x = chained() ? inner_->recompute() : input;
  const at::Tensor out = learned_forward(x, min, max, options);
  return is_view ? out.as_strided(view_sizes, view_strides, view_offset) : out;
}

namespace {
thread_local bool recipes_on = true;
thread_local int64_t kept_count = 0;
}  // namespace

int64_t recipes_kept() { return kept_count; }

bool recipes_enabled() { return recipes_on; }
RecipesGuard::RecipesGuard(bool enabled) : previous_(recipes_on) { recipes_on = enabled; }
RecipesGuard::~RecipesGuard() { recipes_on = previous_; }

c10::intrusive_ptr<Recipe> recipe_of(const at::Tensor& t) {
  if (!recipes_on || !t.defined() || !t.requires_grad()) return {};
  const bool view = t.is_view();
  const at::Tensor out = view ? at::Tensor(t._base()) : t;
  const auto node = std::dynamic_pointer_cast<RangeLearningNode>(out.grad_fn());
  if (!node || out.output_nr() != 0) return {};
  // The recomputed output is contiguous from offset 0, as the original was made.
  if (view && (!out.is_contiguous() || out.storage_offset() != 0)) return {};
  torch::autograd::AutogradContext& ctx = node->ctx_;
  auto recipe = c10::make_intrusive<Recipe>();
  recipe->min = ctx.saved_data.at("min").toTensor();
  recipe->max = ctx.saved_data.at("max").toTensor();
  recipe->options = options_from(ctx);
  const auto inner = ctx.saved_data.find(recipe_key(0));
  if (inner != ctx.saved_data.end()) {
    recipe->inner_ = c10::static_intrusive_pointer_cast<Recipe>(inner->second.toCapsule());
  } else {
    recipe->input = ctx.get_saved_variables().at(0);
  }
  if (view) {
    recipe->is_view = true;
    recipe->view_sizes = t.sizes().vec();
    recipe->view_strides = t.strides().vec();
    recipe->view_offset = t.storage_offset();
  }
  return recipe;
}

void save_operands(torch::autograd::AutogradContext* ctx, const std::vector<at::Tensor>& operands) {
  std::vector<at::Tensor> kept;
  for (size_t i = 0; i < operands.size(); ++i) {
    if (auto recipe = recipe_of(operands[i])) {
      ctx->saved_data[recipe_key(i)] = c10::IValue::make_capsule(recipe);
      ++kept_count;
    } else {
      kept.push_back(operands[i]);
    }
  }
  ctx->saved_data[kOperandCount] = static_cast<int64_t>(operands.size());
  ctx->save_for_backward(kept);
}

std::vector<at::Tensor> load_operands(torch::autograd::AutogradContext* ctx) {
  const std::vector<at::Tensor> kept = ctx->get_saved_variables();
  const auto count = static_cast<size_t>(ctx->saved_data.at(kOperandCount).toInt());
  std::vector<at::Tensor> out;
  size_t next = 0;
  for (size_t i = 0; i < count; ++i) {
    const auto recipe = ctx->saved_data.find(recipe_key(i));
    if (recipe != ctx->saved_data.end()) {
      out.push_back(c10::static_intrusive_pointer_cast<Recipe>(recipe->second.toCapsule())->recompute());
    } else {
      out.push_back(kept.at(next++));
    }
  }
  return out;
}

at::Tensor range_learning_quantize(const at::Tensor& x, const at::Tensor& min, const at::Tensor& max,
                                   const RangeLearningOptions& options) {
  if (x.defined() && min.defined()) detail::check_same_device(x, min, "the range (encoding min/max)", "range_learning");
  const bool needs_grad =
      at::GradMode::is_enabled() && (x.requires_grad() || min.requires_grad() || max.requires_grad());
  if (needs_grad) return RangeLearningFunction::apply(x, min, max, options);
  return learned_forward(x, min, max, options);
}

}  // namespace qsim::quant
