#pragma once

// Recipes: how to rebuild a learned quantizer's output during backward instead of
// keeping it. Range learning must keep each quantizer's float input for its §5.4
// gradients; an op that consumes the quantized output would keep a second
// full-size tensor (AIMET's graph keeps both). An op that finds a recipe for its
// input keeps the recipe instead — a reference to the quantizer's saved input and
// its range at the time — and recomputes the quantized tensor, bit for bit, when
// its backward needs it. The same holds through views of the output (BERT's head
// split) and through chains of quantizers (a block's output quantizer, then the
// dropout block's).
//
// Recipes exist only under autograd (QAT); inference keeps nothing.

#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/custom_class.h>

#include "qsim/quant/range_learning.hpp"

namespace qsim::quant {

class Recipe : public torch::CustomClassHolder {
 public:
  /// How the tensor is made from the step before it.
  enum class Step {
    learned_quantizer,  ///< range_learning_quantize of `input` (or of `inner`)
    divide,             ///< inner / divisor (a functional scaling, BERT's / sqrt(d))
    add,                ///< inner + addend (BERT's mask add; the addend is small)
  };

  /// The tensor the recipe stands for, recomputed (no autograd).
  at::Tensor recompute() const;

  Step step = Step::learned_quantizer;
  at::Tensor input;                  ///< learned_quantizer: its saved input, unless `inner`
  c10::intrusive_ptr<Recipe> inner;  ///< the previous step's recipe
  at::Tensor min, max;               ///< learned_quantizer: the (gated) range of that forward
  RangeLearningOptions options;      ///< learned_quantizer
  double divisor = 1.0;              ///< divide
  at::Tensor addend;                 ///< add
  /// The consumer's tensor as a view of the output: sizes, strides, offset.
  bool is_view = false;
  std::vector<int64_t> view_sizes, view_strides;
  int64_t view_offset = 0;
};

/// The recipe of `t` when t is, under autograd, the output of
/// range_learning_quantize, divide_keeping_recipe or add_keeping_recipe, or a view
/// of one; null otherwise.
c10::intrusive_ptr<Recipe> recipe_of(const at::Tensor& t);

/// x / divisor (at::div by a scalar, same values and gradient), whose result has a
/// recipe when x has one; the plain division otherwise.
at::Tensor divide_keeping_recipe(const at::Tensor& x, double divisor);

/// a + b (at::add, same values and gradient for a; b gets none: it must not
/// require grad), whose result has a recipe when a has one; the plain sum otherwise.
at::Tensor add_keeping_recipe(const at::Tensor& a, const at::Tensor& b);

/// Whether recipes are used on this thread (default true); RecipesGuard(false)
/// makes ops keep their operands, for tests that compare both.
bool recipes_enabled();
class RecipesGuard {
 public:
  explicit RecipesGuard(bool enabled);
  ~RecipesGuard();
  RecipesGuard(const RecipesGuard&) = delete;
  RecipesGuard& operator=(const RecipesGuard&) = delete;

 private:
  bool previous_;
};

/// How many operands this thread's ops have kept as recipes so far (tests check
/// that the memory-saving path ran).
int64_t recipes_kept();

/// Saves the operands an op's backward needs: each one that has a recipe as its
/// recipe (in ctx->saved_data), the others through save_for_backward.
void save_operands(torch::autograd::AutogradContext* ctx, const std::vector<at::Tensor>& operands);

/// The operands save_operands kept, in order, recipes recomputed.
std::vector<at::Tensor> load_operands(torch::autograd::AutogradContext* ctx);

}  // namespace qsim::quant
