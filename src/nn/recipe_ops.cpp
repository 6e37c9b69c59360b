#include "nn/recipe_ops.hpp"

#include <vector>

#include <ATen/ATen.h>
#include <ATen/ExpandUtils.h>
#include <torch/autograd.h>

#include "qsim/quant/recipe.hpp"

namespace qsim::nn::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Under autograd and worth it: some operand records and has a recipe.
bool worth_it(std::initializer_list<const at::Tensor*> operands) {
  if (!at::GradMode::is_enabled() || !quant::recipes_enabled()) return false;
  bool records = false, recipe = false;
  for (const at::Tensor* t : operands) {
    if (!t->defined()) continue;
    records = records || t->requires_grad();
    recipe = recipe || quant::recipe_of(*t);
  }
  return records && recipe;
}

at::Tensor grad_if(bool needed, const at::Tensor& grad) { return needed ? grad : at::Tensor(); }

// at::linear with a bias: addmm(b, x2d, wᵀ) viewed back. Backward as AddmmBackward0:
// mat1: grad.mm(mat2ᵀ) = grad·w; mat2 (wᵀ, column-major): (gradᵀ·x2d)ᵀ, whose
// transpose reaches w; self (bias): the engine's sum_to of grad.
class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
    quant::save_operands(ctx, {x, w});
    ctx->saved_data["bias_sizes"] = b.sizes().vec();
    return at::linear(x, w, b);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const std::vector<at::Tensor> saved = quant::load_operands(ctx);
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    const at::Tensor x2d = x.dim() == 2 ? x : x.view({-1, x.size(-1)});
    const at::Tensor g2d = grads[0].reshape({-1, w.size(0)});
    const at::Tensor gx = ctx->needs_input_grad(0) ? g2d.mm(w.t().t()).view(x.sizes()) : at::Tensor();
    const at::Tensor gw = ctx->needs_input_grad(1) ? g2d.t().mm(x2d) : at::Tensor();
    const at::Tensor gb =
        ctx->needs_input_grad(2) ? at::sum_to(g2d, c10::IntArrayRef(ctx->saved_data["bias_sizes"].toIntVector())) : at::Tensor();
    return {gx, gw, gb};
  }
};

// at::matmul for batched operands of equal batch shape: bmm of the [-1, n, m] and
// [-1, m, p] reshapes, viewed back. Backward as BmmBackward0, reshaped back.
class MatMulFunction : public torch::autograd::Function<MatMulFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b) {
    quant::save_operands(ctx, {a, b});
    std::vector<int64_t> shape = a.sizes().vec();
    shape.back() = b.size(-1);
    return at::bmm(a.reshape({-1, a.size(-2), a.size(-1)}), b.reshape({-1, b.size(-2), b.size(-1)})).view(shape);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const std::vector<at::Tensor> saved = quant::load_operands(ctx);
    const at::Tensor& a = saved[0];
    const at::Tensor& b = saved[1];
    const at::Tensor a3 = a.reshape({-1, a.size(-2), a.size(-1)});
    const at::Tensor b3 = b.reshape({-1, b.size(-2), b.size(-1)});
    const at::Tensor g3 = grads[0].reshape({-1, a.size(-2), b.size(-1)});
    const at::Tensor ga = ctx->needs_input_grad(0) ? g3.bmm(b3.transpose(1, 2)).reshape(a.sizes()) : at::Tensor();
    const at::Tensor gb = ctx->needs_input_grad(1) ? a3.transpose(1, 2).bmm(g3).reshape(b.sizes()) : at::Tensor();
    return {ga, gb};
  }
};

// native_layer_norm and its backward, as NativeLayerNormBackward0 calls it.
class LayerNormFunction : public torch::autograd::Function<LayerNormFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                            at::IntArrayRef shape, double eps) {
    auto [out, mean, rstd] = at::native_layer_norm(x, shape, w, b, eps);
    quant::save_operands(ctx, {x, w, b, mean, rstd});
    ctx->saved_data["shape"] = shape.vec();
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const std::vector<at::Tensor> s = quant::load_operands(ctx);
    const std::array<bool, 3> mask{ctx->needs_input_grad(0), ctx->needs_input_grad(1), ctx->needs_input_grad(2)};
    const std::vector<int64_t> shape = ctx->saved_data["shape"].toIntVector();
    auto [gx, gw, gb] = at::native_layer_norm_backward(grads[0], s[0], shape, s[3], s[4], s[1], s[2], mask);
    return {grad_if(mask[0], gx), grad_if(mask[1], gw), grad_if(mask[2], gb), at::Tensor(), at::Tensor()};
  }
};

// gelu and gelu_backward (GeluBackward0), exact erf form.
class GeluFunction : public torch::autograd::Function<GeluFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x) {
    quant::save_operands(ctx, {x});
    return at::gelu(x, "none");
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {at::gelu_backward(grads[0], quant::load_operands(ctx)[0], "none")};
  }
};

}  // namespace

std::optional<at::Tensor> linear_keeping_recipes(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (!b.defined() || !(x.dim() == 2 || (x.dim() == 3 && x.is_contiguous())) || w.dim() != 2) return std::nullopt;
  if (!worth_it({&x, &w, &b})) return std::nullopt;
  return LinearFunction::apply(x, w, b);
}

std::optional<at::Tensor> matmul_keeping_recipes(const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() < 3 || a.dim() != b.dim() || a.sizes().slice(0, a.dim() - 2) != b.sizes().slice(0, b.dim() - 2) ||
      a.size(-1) != b.size(-2)) {
    return std::nullopt;
  }
  if (!worth_it({&a, &b})) return std::nullopt;
  return MatMulFunction::apply(a, b);
}

std::optional<at::Tensor> layer_norm_keeping_recipes(const at::Tensor& x, at::IntArrayRef shape, const at::Tensor& w,
                                                     const at::Tensor& b, double eps) {
  if (!w.defined() || !b.defined() || !worth_it({&x, &w, &b})) return std::nullopt;
  return LayerNormFunction::apply(x, w, b, shape, eps);
}

std::optional<at::Tensor> gelu_keeping_recipes(const at::Tensor& x) {
  if (!worth_it({&x})) return std::nullopt;
  return GeluFunction::apply(x);
}

}  // namespace qsim::nn::detail
