// Slots: names, defaults, op types, clone, and that disabled slots cost no copy.
#include "qsim/nn/quantizable.hpp"

#include <set>
#include <string>
#include <vector>

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
#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace {

using namespace qsim;

std::set<std::string> quantizer_paths(const torch::nn::Module& module) {
  std::set<std::string> out;
  for (const auto& item : module.named_modules("", /*include_self=*/false)) {
    if (dynamic_cast<const quant::QuantizerNodeImpl*>(item.value().get()) != nullptr) out.insert(item.key());
  }
  return out;
}

TEST(QuantizableTest, LinearHasInputOutputWeightAndBiasSlots) {
  nn::Linear linear(4, 3);
  EXPECT_EQ(quantizer_paths(*linear),
            (std::set<std::string>{"input_quantizers.0", "output_quantizer", "weight_quantizer", "bias_quantizer"}));
  EXPECT_EQ(linear->op_type(), "Gemm");
  EXPECT_EQ(linear->num_inputs(), 1u);
  ASSERT_EQ(linear->param_quantizers().size(), 2u);
  EXPECT_EQ(linear->param_quantizers()[0].first, "weight");
  EXPECT_EQ(linear->param_quantizers()[1].first, "bias");
  EXPECT_EQ(linear->param_quantizers()[0].second.ptr(), linear->weight_quantizer.ptr());
}

TEST(QuantizableTest, EverySlotOfEveryBlockStartsDisabled) {
  std::vector<std::shared_ptr<torch::nn::Module>> blocks = {
      nn::Linear(4, 3).ptr(),      nn::Embedding(5, 2).ptr(), nn::LayerNorm(nn::LayerNormOptions({3})).ptr(),
      nn::GELU().ptr(),            nn::Tanh().ptr(),          nn::Softmax(-1).ptr(),
      nn::Dropout(0.1).ptr(),      nn::Add().ptr(),           nn::Sub().ptr(),
      nn::Mul().ptr(),             nn::Div().ptr(),           nn::MatMul().ptr()};
  for (const auto& block : blocks) {
    int slots = 0;
    for (const auto& item : block->named_modules("", false)) {
      if (auto* node = dynamic_cast<quant::QuantizerNodeImpl*>(item.value().get())) {
        EXPECT_FALSE(node->enabled()) << item.key();
        ++slots;
      }
    }
    EXPECT_GE(slots, 2);
    EXPECT_NE(dynamic_cast<nn::Quantizable*>(block.get()), nullptr);
  }
}

TEST(QuantizableTest, OpTypesAreAimetOnnxNames) {
  EXPECT_EQ(nn::Embedding(5, 2)->op_type(), "Embedding");
  EXPECT_EQ(nn::LayerNorm(nn::LayerNormOptions({3}))->op_type(), "LayerNorm");
  EXPECT_EQ(nn::GELU()->op_type(), "GELU");
  EXPECT_EQ(nn::Tanh()->op_type(), "Tanh");
  EXPECT_EQ(nn::Softmax(-1)->op_type(), "Softmax");
  EXPECT_EQ(nn::Dropout(0.1)->op_type(), "Dropout");
  EXPECT_EQ(nn::Add()->op_type(), "Add");
  EXPECT_EQ(nn::Sub()->op_type(), "Sub");
  EXPECT_EQ(nn::Mul()->op_type(), "Mul");
  EXPECT_EQ(nn::Div()->op_type(), "Div");
  EXPECT_EQ(nn::MatMul()->op_type(), "MatMul");
}

TEST(QuantizableTest, BinaryOpsHaveTwoIndexedInputSlots) {
  nn::Add add;
  EXPECT_EQ(quantizer_paths(*add),
            (std::set<std::string>{"input_quantizers.0", "input_quantizers.1", "output_quantizer"}));
  EXPECT_EQ(add->num_inputs(), 2u);
  EXPECT_EQ(add->input_quantizer(1).ptr().get(), add->input_quantizers->ptr(1).get());
  QSIM_EXPECT_THROW_MSG(add->input_quantizer(2), ValueError, {"Add", "input quantizer 2", "2 inputs"});
}

TEST(QuantizableTest, DisabledSlotsReturnTheOpResultWithoutCopies) {
  nn::Dropout dropout(0.5);
  dropout->eval();
  const torch::Tensor x = torch::randn({3, 4});
  EXPECT_TRUE(dropout(x).is_same(x));  // identity in eval, no copy through disabled slots
  auto first = nn::Linear(4, 2);
  const torch::Tensor y = first(x);
  EXPECT_TRUE(torch::equal(y, at::linear(x, first->weight, first->bias)));
}

TEST(QuantizableTest, CloneCopiesWeightsAndGivesFreshSlots) {
  nn::Linear linear(4, 3);
  linear->output_quantizer->set_enabled(true);
  auto copy = std::dynamic_pointer_cast<nn::LinearImpl>(linear->clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_TRUE(torch::equal(copy->weight, linear->weight));
  EXPECT_NE(copy->weight.data_ptr(), linear->weight.data_ptr());
  EXPECT_NE(copy->output_quantizer.ptr(), linear->output_quantizer.ptr());
  EXPECT_TRUE(copy->output_quantizer->enabled());
  EXPECT_EQ(quantizer_paths(*copy), quantizer_paths(*linear));
  EXPECT_EQ(copy->input_quantizer(0).ptr().get(), copy->input_quantizers->ptr(0).get());
  EXPECT_EQ(copy->param_quantizers()[0].second.ptr(), copy->weight_quantizer.ptr());
}

TEST(QuantizableTest, EnabledSlotsSeeTheirTensorsInOrder) {
  nn::Linear linear(4, 3);
  std::vector<std::string> calls;
  for (const auto& item : linear->named_modules("", false)) {
    if (auto* node = dynamic_cast<quant::QuantizerNodeImpl*>(item.value().get())) {
      node->set_enabled(true);
      const std::string name = item.key();
      node->set_observer([&calls, name](const torch::Tensor&) { calls.push_back(name); });
    }
  }
  linear(torch::randn({2, 4}));
  EXPECT_EQ(calls, (std::vector<std::string>{"input_quantizers.0", "weight_quantizer", "bias_quantizer",
                                             "output_quantizer"}));
}

TEST(QuantizableTest, EnabledOutputSlotQuantizesTheResult) {
  nn::GELU gelu;
  gelu->output_quantizer->set_encoding(quant::make_encoding(-1.0, 1.0, 8, quant::Symmetry::asymmetric));
  gelu->output_quantizer->set_enabled(true);
  const torch::Tensor x = torch::linspace(-0.9, 0.9, 101);
  const torch::Tensor exact = at::gelu(x);
  const torch::Tensor got = gelu(x);
  const double delta = 2.0 / 255.0;
  EXPECT_FALSE(torch::equal(got, exact));
  EXPECT_LE((got - exact).abs().max().item<double>(), delta / 2 + 1e-6);
}

}  // namespace
