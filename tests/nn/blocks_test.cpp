// Each block, with its slots disabled, computes exactly the plain ATen op.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/nn/dropout.hpp"
#include "qsim/nn/elementwise.hpp"
#include "qsim/nn/embedding.hpp"
#include "qsim/nn/gelu.hpp"
#include "qsim/nn/layer_norm.hpp"
#include "qsim/nn/linear.hpp"
#include "qsim/nn/softmax.hpp"
#include "qsim/nn/tanh.hpp"
#include "qsim/nn/thread_invariant_matmul.hpp"
#include "qsim/error.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "support/expect_error.hpp"

namespace {

using namespace qsim;

TEST(LinearTest, MatchesAtenLinearWithAndWithoutBias) {
  torch::manual_seed(1);
  nn::Linear with_bias(5, 3);
  nn::Linear no_bias(nn::LinearOptions(5, 3).bias(false));
  const torch::Tensor x = torch::randn({2, 7, 5});
  EXPECT_TRUE(torch::equal(with_bias(x), at::linear(x, with_bias->weight, with_bias->bias)));
  EXPECT_FALSE(no_bias->bias.defined());
  EXPECT_TRUE(torch::equal(no_bias(x), at::linear(x, no_bias->weight)));
  EXPECT_EQ(with_bias->weight.sizes(), (std::vector<int64_t>{3, 5}));
}

TEST(LinearTest, GradientsReachWeights) {
  nn::Linear linear(3, 2);
  linear(torch::randn({4, 3})).sum().backward();
  ASSERT_TRUE(linear->weight.grad().defined());
  EXPECT_GT(linear->weight.grad().abs().sum().item<double>(), 0.0);
}

TEST(LinearTest, RejectsNonPositiveFeatures) {
  QSIM_EXPECT_THROW_MSG(nn::Linear(0, 3), ConfigError, {"linear", "in=0"});
}

TEST(EmbeddingTest, LooksUpRowsAndZeroesThePaddingRow) {
  nn::Embedding embedding(nn::EmbeddingOptions(6, 4).padding_idx(0));
  EXPECT_TRUE(torch::equal(embedding->weight[0], torch::zeros({4})));
  const torch::Tensor ids = torch::tensor({{1, 5}, {0, 2}}, torch::kLong);
  const torch::Tensor out = embedding(ids);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 2, 4}));
  EXPECT_TRUE(torch::equal(out[0][1], embedding->weight[5]));
  QSIM_EXPECT_THROW_MSG(nn::Embedding(nn::EmbeddingOptions(6, 4).padding_idx(6)), ConfigError,
                        {"padding_idx", "[0, 6)", "6"});
}

// With an enabled per-tensor weight quantizer the embedding quantizes only the
// looked-up rows when no gradient is needed; the result must be bit-identical to
// quantizing the whole table first (and to the gradient path).
TEST(EmbeddingTest, QuantizedLookupEqualsLookupInTheQuantizedTable) {
  nn::Embedding embedding(nn::EmbeddingOptions(50, 8));
  embedding->weight_quantizer->set_enabled(true);
  const quant::Encoding e = quant::make_encoding(-1.3, 1.1, 8, quant::Symmetry::symmetric);
  embedding->weight_quantizer->set_encoding(e);
  const torch::Tensor ids = torch::tensor({{3, 7, 3}, {49, 0, 12}}, torch::kLong);
  const torch::Tensor expected = at::embedding(quant::fake_quantize_static(embedding->weight.detach(), e), ids);
  const torch::Tensor with_grad = embedding(ids);
  EXPECT_TRUE(with_grad.requires_grad());
  EXPECT_TRUE(torch::equal(with_grad.detach(), expected));
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(embedding(ids), expected));
}

TEST(LayerNormTest, MatchesAtenLayerNormWithEps) {
  nn::LayerNorm norm(nn::LayerNormOptions({8}).eps(1e-12));
  torch::NoGradGuard no_grad;
  norm->weight.uniform_(0.5, 1.5);
  norm->bias.normal_();
  const torch::Tensor x = torch::randn({3, 8});
  EXPECT_TRUE(torch::equal(norm(x), at::layer_norm(x, {8}, norm->weight, norm->bias, 1e-12)));
  QSIM_EXPECT_THROW_MSG(nn::LayerNorm(nn::LayerNormOptions({8}).eps(0.0)), ConfigError, {"eps", "positive"});
}

TEST(GELUTest, IsTheExactErfForm) {
  const torch::Tensor x = torch::linspace(-6.0, 6.0, 1001, torch::kDouble);
  const torch::Tensor expected = x * 0.5 * (1.0 + torch::erf(x / std::sqrt(2.0)));
  nn::GELU gelu;
  const torch::Tensor got = gelu(x.to(torch::kFloat)).to(torch::kDouble);
  EXPECT_LE((got - expected).abs().max().item<double>(), 1e-6);
  // The tanh approximation differs by more than that somewhere in the range.
  const torch::Tensor approx = at::gelu(x, "tanh");
  EXPECT_GT((approx - expected).abs().max().item<double>(), 1e-4);
}

TEST(SoftmaxTest, NormalisesAlongItsDim) {
  nn::Softmax softmax(-1);
  const torch::Tensor x = torch::randn({2, 3, 5});
  EXPECT_TRUE(torch::equal(softmax(x), at::softmax(x, -1)));
  EXPECT_TRUE(torch::allclose(softmax(x).sum(-1), torch::ones({2, 3})));
}

TEST(TanhTest, MatchesAtenTanh) {
  nn::Tanh tanh;
  const torch::Tensor x = torch::randn({10});
  EXPECT_TRUE(torch::equal(tanh(x), at::tanh(x)));
}

TEST(DropoutTest, ActiveOnlyInTraining) {
  nn::Dropout dropout(0.5);
  const torch::Tensor x = torch::ones({1000});
  dropout->train();
  const torch::Tensor trained = dropout(x);
  const double zeros = (trained == 0).sum().item<double>();
  EXPECT_GT(zeros, 300.0);
  EXPECT_LT(zeros, 700.0);
  dropout->eval();
  EXPECT_TRUE(torch::equal(dropout(x), x));
  QSIM_EXPECT_THROW_MSG(nn::Dropout(1.0), ConfigError, {"dropout", "[0, 1)", "1"});
}

TEST(ElementwiseTest, BinaryOpsMatchAten) {
  const torch::Tensor a = torch::randn({2, 3, 4});
  const torch::Tensor b = torch::randn({2, 3, 4});
  EXPECT_TRUE(torch::equal(nn::Add()(a, b), a + b));
  EXPECT_TRUE(torch::equal(nn::Sub()(a, b), a - b));
  EXPECT_TRUE(torch::equal(nn::Mul()(a, b), a * b));
  EXPECT_TRUE(torch::equal(nn::Div()(a, torch::scalar_tensor(8.0)), a / 8.0));
  // While autograd records, MatMul is ATen's op, so its backward is ATen's too.
  const torch::Tensor tracked = a.clone().requires_grad_();
  EXPECT_TRUE(torch::equal(nn::MatMul()(tracked, b.transpose(-1, -2)), torch::matmul(tracked, b.transpose(-1, -2))));
  // Without autograd recording, MatMul takes the thread-invariant product.
  const torch::NoGradGuard no_grad;
  const torch::Tensor product = nn::MatMul()(a, b.transpose(-1, -2));
  EXPECT_TRUE(torch::equal(product, nn::thread_invariant_matmul(a, b.transpose(-1, -2))));
  EXPECT_TRUE(torch::allclose(product, torch::matmul(a, b.transpose(-1, -2)), 1e-5, 1e-6));
}

// Binary blocks write over input 0 only when the caller hands it over and nothing
// else holds it; values are those of the ATen op either way.
TEST(ElementwiseTest, MovedFirstInputIsReusedOnlyWhenUnshared) {
  nn::Add add;
  const torch::Tensor b = torch::randn({4, 1});
  torch::NoGradGuard no_grad;
  torch::Tensor fresh = torch::randn({4, 6});
  const torch::Tensor expected = fresh + b;
  const void* memory = fresh.data_ptr();
  const torch::Tensor reused = add(std::move(fresh), b);
  EXPECT_EQ(reused.data_ptr(), memory);
  EXPECT_TRUE(torch::equal(reused, expected));

  const torch::Tensor held = torch::randn({4, 6});
  const torch::Tensor copy = held.clone();
  EXPECT_TRUE(torch::equal(add(held, b), copy + b));
  EXPECT_TRUE(torch::equal(held, copy));
  torch::Tensor small = torch::randn({4, 1});  // the result is larger than input 0
  const torch::Tensor wide = torch::randn({4, 6});
  EXPECT_EQ(add(std::move(small), wide).sizes(), wide.sizes());
  torch::Tensor ints = torch::arange(6, torch::kLong);  // promotes to float
  EXPECT_EQ(add(std::move(ints), torch::ones({6})).scalar_type(), torch::kFloat);
}

TEST(ElementwiseTest, AddPromotesAnInt64MaskAndLeavesItUnquantized) {
  nn::Add mask_add;
  mask_add->input_quantizer(1)->set_enabled(true);
  int observed = 0;
  mask_add->input_quantizer(1)->set_observer([&observed](const torch::Tensor&) { ++observed; });
  const torch::Tensor scores = torch::randn({2, 1, 3, 3});
  const torch::Tensor mask = torch::tensor({0, 0, -6}, torch::kLong).view({1, 1, 1, 3});
  const torch::Tensor out = mask_add(scores, mask);
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(out, scores + mask));
  EXPECT_EQ(observed, 0);
}

}  // namespace
