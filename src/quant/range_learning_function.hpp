#pragma once

// Internal: the range-learning autograd function, shared by range_learning_quantize
// and the recipes (recipe.cpp), which read what its nodes saved.

#include <torch/autograd.h>
#include <torch/types.h>

#include "qsim/quant/range_learning.hpp"

namespace qsim::quant::detail {

class RangeLearningFunction : public torch::autograd::Function<RangeLearningFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& min, const torch::Tensor& max,
                               const RangeLearningOptions& options);
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads);
};

using RangeLearningNode = torch::autograd::CppNode<RangeLearningFunction>;

/// The learned-grid forward (§5.3) of range_learning_quantize.
at::Tensor learned_forward(const at::Tensor& x, const at::Tensor& min, const at::Tensor& max,
                           const RangeLearningOptions& options);

/// The options a RangeLearningFunction node saved.
RangeLearningOptions saved_options(const torch::autograd::AutogradContext& ctx);

}  // namespace qsim::quant::detail
