#pragma once

// The blocks' ops under autograd, keeping recipes (qsim/quant/recipe.hpp) instead
// of operands that are learned quantizers' outputs: the quantized weights of a
// Linear, the quantized activations a Linear, MatMul, LayerNorm or GELU consumes.
// Each mirrors ATen's own forward and backward formulas call for call, so values
// and gradients are those of the plain op bit for bit (tests compare with
// quant::RecipesGuard(false)); each returns empty — the caller runs the plain op —
// when autograd is not recording, when no operand has a recipe, or for shapes it
// does not mirror.

#include <optional>

#include <ATen/core/Tensor.h>

namespace qsim::nn::detail {

/// at::linear(x, w, b) for x [M, K] or a contiguous [B, L, K] and a defined bias.
std::optional<at::Tensor> linear_keeping_recipes(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b);

/// at::matmul(a, b) for a [..., n, m] and b [..., m, p] with the same ≥ 1 batch dimensions.
std::optional<at::Tensor> matmul_keeping_recipes(const at::Tensor& a, const at::Tensor& b);

/// at::layer_norm(x, shape, w, b, eps).
std::optional<at::Tensor> layer_norm_keeping_recipes(const at::Tensor& x, at::IntArrayRef shape, const at::Tensor& w,
                                                     const at::Tensor& b, double eps);

/// at::gelu(x) (exact erf form).
std::optional<at::Tensor> gelu_keeping_recipes(const at::Tensor& x);

}  // namespace qsim::nn::detail
