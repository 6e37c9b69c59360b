// Recipes (qsim/quant/recipe.hpp): reading them off the autograd nodes that can
// rebuild their outputs, keeping them in ops' contexts, and the two small
// functions (division by a scalar, adding a non-differentiable tensor) that pass
// a recipe on.
#include "qsim/quant/recipe.hpp"

#include <string>

#include <ATen/ATen.h>

#include "qsim/quant/output_pool.hpp"
#include "qsim/quant/tensor_ownership.hpp"
#include "quant/kernel_dispatch.hpp"
#include "quant/range_learning_function.hpp"

namespace qsim::quant {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

thread_local bool recipes_on = true;
thread_local int64_t kept_count = 0;

constexpr const char* kOperandCount = "qsim.operands";
constexpr const char* kResultRecipe = "qsim.result_recipe";

std::string recipe_key(size_t i) { return "qsim.recipe." + std::to_string(i); }

c10::intrusive_ptr<Recipe> capsule_recipe(const c10::IValue& v) {
  return c10::static_intrusive_pointer_cast<Recipe>(v.toCapsule());
}

// x / divisor, with the result's recipe in the node (set when x has one).
class DivideFunction : public torch::autograd::Function<DivideFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, double divisor, c10::intrusive_ptr<Recipe> recipe) {
    ctx->saved_data["divisor"] = divisor;
    ctx->saved_data[kResultRecipe] = c10::IValue::make_capsule(std::move(recipe));
    return at::div(x, divisor);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // DivBackward1: grad / other.
    return {at::div(grads[0], ctx->saved_data["divisor"].toDouble()), at::Tensor(), at::Tensor()};
  }
};

// a + b for a non-differentiable b, with the result's recipe in the node.
class AddFunction : public torch::autograd::Function<AddFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b, c10::intrusive_ptr<Recipe> recipe) {
    ctx->saved_data[kResultRecipe] = c10::IValue::make_capsule(std::move(recipe));
    ctx->saved_data["a_sizes"] = a.sizes().vec();
    return at::add(a, b);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // AddBackward0 for self, reduced to its shape as the engine would.
    return {at::sum_to(grads[0], c10::IntArrayRef(ctx->saved_data["a_sizes"].toIntVector())), at::Tensor(), at::Tensor()};
  }
};

// The recipe a node can give for its output 0, or null.
c10::intrusive_ptr<Recipe> recipe_of_node(const std::shared_ptr<torch::autograd::Node>& grad_fn) {
  if (auto node = std::dynamic_pointer_cast<detail::RangeLearningNode>(grad_fn)) {
    AutogradContext& ctx = node->ctx_;
    auto recipe = c10::make_intrusive<Recipe>();
    recipe->min = ctx.saved_data.at("min").toTensor();
    recipe->max = ctx.saved_data.at("max").toTensor();
    recipe->options = detail::saved_options(ctx);
    const auto inner = ctx.saved_data.find(recipe_key(0));
    if (inner != ctx.saved_data.end()) {
      recipe->inner = capsule_recipe(inner->second);
    } else {
      recipe->input = ctx.get_saved_variables().at(0);
    }
    return recipe;
  }
  const torch::autograd::AutogradContext* ctx = nullptr;
  if (auto node = std::dynamic_pointer_cast<torch::autograd::CppNode<DivideFunction>>(grad_fn)) ctx = &node->ctx_;
  if (auto node = std::dynamic_pointer_cast<torch::autograd::CppNode<AddFunction>>(grad_fn)) ctx = &node->ctx_;
  if (ctx == nullptr) return {};
  // A copy: the consumer may add a view geometry to its own.
  auto recipe = c10::make_intrusive<Recipe>(*capsule_recipe(ctx->saved_data.at(kResultRecipe)));
  return recipe;
}

}  // namespace

at::Tensor Recipe::recompute() const {
  const detail::UnpooledScope training;
  at::Tensor out;
  switch (step) {
    case Step::learned_quantizer:
      out = detail::learned_forward(inner ? inner->recompute() : input, min, max, options);
      break;
    case Step::divide: out = at::div(inner->recompute(), divisor); break;
    case Step::add: out = at::add(inner->recompute(), addend); break;
  }
  return is_view ? out.as_strided(view_sizes, view_strides, view_offset) : out;
}

bool recipes_enabled() { return recipes_on; }
RecipesGuard::RecipesGuard(bool enabled) : previous_(recipes_on) { recipes_on = enabled; }
RecipesGuard::~RecipesGuard() { recipes_on = previous_; }
int64_t recipes_kept() { return kept_count; }

c10::intrusive_ptr<Recipe> recipe_of(const at::Tensor& t) {
  if (!recipes_on || !t.defined() || !t.requires_grad()) return {};
  const bool view = t.is_view();
  const at::Tensor out = view ? at::Tensor(t._base()) : t;
  if (out.output_nr() != 0) return {};
  // A recomputed output is contiguous from offset 0, as the original was made.
  if (view && (!out.is_contiguous() || out.storage_offset() != 0)) return {};
  c10::intrusive_ptr<Recipe> recipe = recipe_of_node(out.grad_fn());
  if (!recipe || !view) return recipe;
  recipe->is_view = true;
  recipe->view_sizes = t.sizes().vec();
  recipe->view_strides = t.strides().vec();
  recipe->view_offset = t.storage_offset();
  return recipe;
}

namespace {

// Where autograd does not record, a result shaped like a contiguous float CPU `a`
// gets a pooled block (output_pool.hpp): these sums and quotients run every
// forward (BERT's residual adds and attention scale in FP32 mode) and, from
// LibTorch's allocator, map fresh pages each time once they outgrow glibc's mmap
// threshold. Same kernel, same layout (ATen gives a contiguous `a` a contiguous
// result), so the same values.
bool recorded(const at::Tensor& t) { return at::GradMode::is_enabled() && t.requires_grad(); }

bool pooled_like(const at::Tensor& a) {
  return !recorded(a) && a.device().is_cpu() && a.layout() == at::kStrided && a.scalar_type() == at::kFloat &&
         a.is_contiguous();
}

at::Tensor plain_add(const at::Tensor& a, const at::Tensor& b) {
  if (!pooled_like(a) || recorded(b) || !b.device().is_cpu() || !result_fits(a, b)) return at::add(a, b);
  at::Tensor out = pooled_empty(a.sizes(), at::kFloat);
  return at::add_out(out, a, b);
}

at::Tensor plain_divide(const at::Tensor& x, double divisor) {
  if (!pooled_like(x)) return x / divisor;  // float ÷ scalar: x's dtype and shape
  at::Tensor d = at::scalar_to_tensor(divisor);
  d.unsafeGetTensorImpl()->set_wrapped_number(true);  // as `x / divisor` wraps it
  at::Tensor out = pooled_empty(x.sizes(), at::kFloat);
  return at::div_out(out, x, d);
}

}  // namespace

at::Tensor divide_keeping_recipe(const at::Tensor& x, double divisor) {
  auto inner = at::GradMode::is_enabled() ? recipe_of(x) : c10::intrusive_ptr<Recipe>();
  if (!inner) return plain_divide(x, divisor);
  auto recipe = c10::make_intrusive<Recipe>();
  recipe->step = Recipe::Step::divide;
  recipe->inner = std::move(inner);
  recipe->divisor = divisor;
  return DivideFunction::apply(x, divisor, recipe);
}

at::Tensor add_keeping_recipe(const at::Tensor& a, const at::Tensor& b) {
  auto inner = at::GradMode::is_enabled() && !b.requires_grad() ? recipe_of(a) : c10::intrusive_ptr<Recipe>();
  if (!inner) return plain_add(a, b);
  auto recipe = c10::make_intrusive<Recipe>();
  recipe->step = Recipe::Step::add;
  recipe->inner = std::move(inner);
  recipe->addend = b.detach();
  return AddFunction::apply(a, b, recipe);
}

void save_operands(AutogradContext* ctx, const std::vector<at::Tensor>& operands) {
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

std::vector<at::Tensor> load_operands(AutogradContext* ctx) {
  const std::vector<at::Tensor> kept = ctx->get_saved_variables();
  const auto count = static_cast<size_t>(ctx->saved_data.at(kOperandCount).toInt());
  std::vector<at::Tensor> out;
  size_t next = 0;
  for (size_t i = 0; i < count; ++i) {
    const auto recipe = ctx->saved_data.find(recipe_key(i));
    out.push_back(recipe != ctx->saved_data.end() ? capsule_recipe(recipe->second)->recompute() : kept.at(next++));
  }
  return out;
}

}  // namespace qsim::quant
