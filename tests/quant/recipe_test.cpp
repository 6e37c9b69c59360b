// Recipes' divide and add steps (qsim/quant/recipe.hpp): the functions that pass
// a learned quantizer's recipe on give the values and gradients of plain at::div /
// at::add, their recipes recompute the tensor bit for bit (through views too), and
// no recipe appears where one would be wrong.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/quant/range_learning.hpp"
#include "qsim/quant/recipe.hpp"

namespace qsim::quant {
namespace {

struct Leaves {
  torch::Tensor x, min, max;
};

Leaves leaves() {
  torch::manual_seed(3);
  return {torch::randn({2, 3, 5, 7}).requires_grad_(), torch::tensor(-1.5).requires_grad_(),
          torch::tensor(2.0).requires_grad_()};
}

torch::Tensor quantized(const Leaves& l) { return range_learning_quantize(l.x, l.min, l.max, RangeLearningOptions{}); }

struct Grads {
  torch::Tensor out, x, min, max;
};

// out = f(quantized x); loss = sum(out * weights) so every element's gradient differs.
template <typename F>
Grads run(F f) {
  const Leaves l = leaves();
  const torch::Tensor out = f(quantized(l));
  const torch::Tensor weights = torch::linspace(-1, 1, out.numel()).view(out.sizes());
  (out * weights).sum().backward();
  return {out.detach(), l.x.grad(), l.min.grad(), l.max.grad()};
}

void expect_identical(const Grads& a, const Grads& b) {
  EXPECT_TRUE(torch::equal(a.out, b.out));
  EXPECT_TRUE(torch::equal(a.x, b.x));
  EXPECT_TRUE(torch::equal(a.min, b.min));
  EXPECT_TRUE(torch::equal(a.max, b.max));
}

TEST(RecipeStepsTest, DivideAndAddMatchTheirAtenOpsInValueAndGradient) {
  const torch::Tensor mask = torch::where(torch::rand({2, 1, 1, 7}) > 0.5, 0.0, -6.0);
  const auto ours = run([&](const torch::Tensor& q) { return add_keeping_recipe(divide_keeping_recipe(q, 2.75), mask); });
  const auto aten = run([&](const torch::Tensor& q) { return at::add(at::div(q, 2.75), mask); });
  expect_identical(ours, aten);
}

TEST(RecipeStepsTest, RecipesThroughDivideAddAndViewsRecomputeTheTensor) {
  const Leaves l = leaves();
  const torch::Tensor mask = torch::full({2, 1, 1, 7}, -6.0);
  const torch::Tensor scaled = divide_keeping_recipe(quantized(l), 3.0);
  const torch::Tensor summed = add_keeping_recipe(scaled, mask);
  for (const torch::Tensor& t : {scaled, summed, summed.transpose(1, 2), summed.select(0, 1)}) {
    const auto recipe = recipe_of(t);
    ASSERT_TRUE(recipe);
    EXPECT_TRUE(torch::equal(recipe->recompute(), t.detach()));
  }
  EXPECT_EQ(recipe_of(summed)->step, Recipe::Step::add);
  EXPECT_EQ(recipe_of(summed)->inner->step, Recipe::Step::divide);
  EXPECT_EQ(recipe_of(summed)->inner->inner->step, Recipe::Step::learned_quantizer);
}

TEST(RecipeStepsTest, NoRecipeWhereItWouldBeWrong) {
  const Leaves l = leaves();
  const torch::Tensor q = quantized(l);
  // A differentiable addend: its gradient is needed, so the plain op runs.
  const torch::Tensor other = torch::ones({7}).requires_grad_();
  EXPECT_FALSE(recipe_of(add_keeping_recipe(q, other)));
  // Not a quantizer's output.
  EXPECT_FALSE(recipe_of(divide_keeping_recipe(l.x * 2, 2.0)));
  // Recipes switched off.
  {
    const RecipesGuard off(false);
    EXPECT_FALSE(recipe_of(divide_keeping_recipe(q, 2.0)));
  }
  // No autograd: nothing to recompute for.
  {
    const torch::NoGradGuard no_grad;
    EXPECT_FALSE(recipe_of(divide_keeping_recipe(quantized(l), 2.0)));
  }
}

}  // namespace
}  // namespace qsim::quant
