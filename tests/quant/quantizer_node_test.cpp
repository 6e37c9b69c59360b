#include "qsim/quant/quantizer_node.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"
#include "support/expect_error.hpp"

namespace qsim::quant {
namespace {

TEST(QuantizerNodeTest, DisabledByDefaultReturnsInputItself) {
  QuantizerNode q;
  const torch::Tensor x = torch::randn({4});
  EXPECT_FALSE(q->enabled());
  EXPECT_TRUE(q->forward(x).is_same(x));
}

TEST(QuantizerNodeTest, IntegerAndBoolInputsPassThrough) {
  QuantizerNode q(QuantizerOptions(8).enabled(true));
  q->set_encoding(make_encoding(-1, 1, 8, Symmetry::asymmetric));
  const torch::Tensor ids = torch::arange(5);
  EXPECT_TRUE(q->forward(ids).is_same(ids));
  const torch::Tensor mask = torch::ones({3}, torch::kBool);
  EXPECT_TRUE(q->forward(mask).is_same(mask));
}

TEST(QuantizerNodeTest, CalibrationWithoutEncodingObservesAndReturnsInput) {
  QuantizerNode q(QuantizerOptions(8).enabled(true));
  int calls = 0;
  q->set_observer([&](const torch::Tensor&) { ++calls; });
  const torch::Tensor x = torch::randn({4});
  EXPECT_TRUE(q->forward(x).is_same(x));
  EXPECT_EQ(calls, 1);
}

TEST(QuantizerNodeTest, StaticGridUsesEncoding) {
  QuantizerNode q(QuantizerOptions(8).enabled(true));
  const Encoding e = make_encoding(-1, 2, 8, Symmetry::asymmetric);
  q->set_encoding(e);
  const torch::Tensor x = torch::randn({100});
  EXPECT_TRUE(torch::equal(q->forward(x), fake_quantize_static(x, e)));
  EXPECT_EQ(q->encoding(), e);
}

TEST(QuantizerNodeTest, PerChannelStaticGrid) {
  QuantizerNode q(QuantizerOptions(8).channel_axis(0).enabled(true));
  std::vector<Encoding> encs{make_encoding(-1, 1, 8, Symmetry::symmetric), make_encoding(-2, 3, 8, Symmetry::symmetric)};
  q->set_encodings(encs);
  const torch::Tensor x = torch::randn({2, 7});
  EXPECT_TRUE(torch::equal(q->forward(x), fake_quantize_static(x, encs, 0)));
  QSIM_EXPECT_THROW_MSG(q->encoding(), ConfigError, {"per-channel"});
}

TEST(QuantizerNodeTest, RejectsBitwidthMismatch) {
  QuantizerNode q(QuantizerOptions(8));
  QSIM_EXPECT_THROW_MSG(q->set_encoding(make_encoding(-1, 1, 4, Symmetry::asymmetric)), ConfigError,
                        {"bitwidth 4", "bitwidth 8"});
}

TEST(QuantizerNodeTest, LearnedGridGatesAndLearns) {
  QuantizerNode q(QuantizerOptions(8).enabled(true));
  q->set_encoding(Encoding{8, 0.5, 2.0, 0, 0});  // not containing 0: gating fixes it
  q->switch_to_learned_grid();
  ASSERT_TRUE(q->encoding_min.defined());
  EXPECT_EQ(q->named_parameters().size(), 2u);
  const torch::Tensor x = torch::randn({64}).set_requires_grad(true);
  const torch::Tensor y = q->forward(x);
  EXPECT_EQ(q->encoding_min.item<float>(), 0.0f);  // gated in place
  const torch::Tensor expected =
      range_learning_quantize(x.detach(), q->encoding_min.detach(), q->encoding_max.detach(), RangeLearningOptions{});
  EXPECT_TRUE(torch::equal(y, expected));
  y.sum().backward();
  EXPECT_TRUE(q->encoding_max.grad().defined());
  EXPECT_TRUE(x.grad().defined());
}

TEST(QuantizerNodeTest, CloneKeepsLearnedRange) {
  QuantizerNode q(QuantizerOptions(8).channel_axis(0).enabled(true));
  q->set_encodings({make_encoding(-1, 1, 8, Symmetry::asymmetric), make_encoding(-2, 1, 8, Symmetry::asymmetric)});
  q->switch_to_learned_grid();
  auto copy = std::dynamic_pointer_cast<QuantizerNodeImpl>(q->clone());
  ASSERT_TRUE(copy);
  EXPECT_TRUE(torch::equal(copy->encoding_min, q->encoding_min));
  EXPECT_FALSE(copy->encoding_min.is_same(q->encoding_min));
  const torch::Tensor x = torch::randn({2, 5});
  EXPECT_TRUE(torch::equal(copy->forward(x), q->forward(x)));
}

TEST(QuantizerNodeTest, SwitchBackToStaticUsesLearnedMinMax) {
  QuantizerNode q(QuantizerOptions(8).enabled(true));
  q->set_encoding(make_encoding(-1, 1, 8, Symmetry::asymmetric));
  q->switch_to_learned_grid();
  q->switch_to_static_grid();
  EXPECT_EQ(q->options.grid(), Grid::static_grid);
  EXPECT_EQ(q->encoding().min, static_cast<double>(static_cast<float>(make_encoding(-1, 1, 8, Symmetry::asymmetric).min)));
  const torch::Tensor x = torch::randn({10});
  EXPECT_TRUE(torch::equal(q->forward(x), fake_quantize_static(x, q->encodings())));
}

// forward_owned: the values of forward(), written over the input only when nothing
// else can see it.
QuantizerNode calibrated_node(Grid grid) {
  QuantizerNode q(QuantizerOptions(8).enabled(true));
  q->set_encoding(make_encoding(-1.5, 2.0, 8, Symmetry::asymmetric));
  if (grid == Grid::learned_grid) q->switch_to_learned_grid();
  return q;
}

TEST(QuantizerNodeTest, ForwardOwnedReusesAnUnsharedTensorWithIdenticalValues) {
  for (const Grid grid : {Grid::static_grid, Grid::learned_grid}) {
    QuantizerNode q = calibrated_node(grid);
    torch::NoGradGuard no_grad;
    torch::Tensor x = torch::randn({3, 1000}) * 2;
    const torch::Tensor expected = q->forward(x);
    const void* memory = x.data_ptr();
    const torch::Tensor y = q->forward_owned(x.clone());  // a fresh temporary: overwritten
    EXPECT_TRUE(torch::equal(y, expected)) << to_string(grid);
    const torch::Tensor z = q->forward_owned(std::move(x));
    EXPECT_EQ(z.data_ptr(), memory) << to_string(grid);
    EXPECT_TRUE(torch::equal(z, expected)) << to_string(grid);
  }
}

TEST(QuantizerNodeTest, ForwardOwnedNeverWritesOverMemoryOthersSee) {
  for (const Grid grid : {Grid::static_grid, Grid::learned_grid}) {
    QuantizerNode q = calibrated_node(grid);
    torch::NoGradGuard no_grad;
    const torch::Tensor held = torch::randn({2, 500}) * 2;
    const torch::Tensor copy = held.clone();
    q->forward_owned(held);                         // another handle exists
    q->forward_owned(held.narrow(1, 0, 500));       // a view of held's storage
    q->forward_owned(held.reshape({1000}));         // an alias
    EXPECT_TRUE(torch::equal(held, copy)) << to_string(grid);
  }
}

TEST(QuantizerNodeTest, ForwardOwnedKeepsAutogradAndObservers) {
  QuantizerNode q = calibrated_node(Grid::learned_grid);
  torch::Tensor x = torch::randn({10}, torch::requires_grad());
  const torch::Tensor y = q->forward_owned(x * 1.0);
  EXPECT_TRUE(y.requires_grad());
  y.sum().backward();
  EXPECT_TRUE(q->encoding_max.grad().defined());

  QuantizerNode observed = calibrated_node(Grid::static_grid);
  torch::Tensor seen;
  observed->set_observer([&](const torch::Tensor& t) { seen = t; });
  EXPECT_TRUE(static_cast<bool>(observed->observer()));
  torch::NoGradGuard no_grad;
  torch::Tensor fresh = torch::randn({10}) * 3;
  const torch::Tensor before = fresh.clone();
  observed->forward_owned(std::move(fresh));
  EXPECT_TRUE(torch::equal(seen, before)) << "the observer must see the float input, not the quantized one";
}

TEST(QuantizerNodeTest, RegisteredAsSubmoduleHasPathName) {
  struct Block : torch::nn::Module {
    Block() { output_quantizer = register_module("output_quantizer", QuantizerNode(QuantizerOptions(8))); }
    QuantizerNode output_quantizer{nullptr};
  };
  auto b = std::make_shared<Block>();
  bool found = false;
  for (const auto& item : b->named_modules()) found |= item.key() == "output_quantizer";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace qsim::quant

namespace qsim::quant {
namespace {

// A parameter-like tensor: a leaf that requires grad.
torch::Tensor parameter(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({n}).requires_grad_(true);
}

TEST(QuantizerCacheTest, InferenceReusesTheQuantizedParameterUntilItChanges) {
  QuantizerNode q(QuantizerOptions(8).symmetry(Symmetry::symmetric).enabled(true));
  q->set_encoding(make_encoding(-2, 2, 8, Symmetry::symmetric));
  q->set_cache_output(true);
  torch::Tensor w = parameter(1000, 1);
  torch::NoGradGuard no_grad;
  const torch::Tensor first = q->forward(w);
  EXPECT_TRUE(q->has_cached_output_for(w));
  EXPECT_TRUE(q->forward(w).is_same(first)) << "second call: the cached tensor";
  EXPECT_TRUE(torch::equal(first, fake_quantize_static(w.detach(), q->encoding())));

  w.add_(0.5);  // an optimizer step: the version counter moves
  EXPECT_FALSE(q->has_cached_output_for(w));
  const torch::Tensor updated = q->forward(w);
  EXPECT_FALSE(updated.is_same(first));
  EXPECT_TRUE(torch::equal(updated, fake_quantize_static(w.detach(), q->encoding())));

  q->set_encoding(make_encoding(-1, 1, 8, Symmetry::symmetric));  // a new encoding
  EXPECT_FALSE(q->has_cached_output_for(w));
  EXPECT_TRUE(torch::equal(q->forward(w), fake_quantize_static(w.detach(), q->encoding())));

  q->options.bitwidth(4);  // an option change (encoding no longer fits: recomputing throws)
  EXPECT_FALSE(q->has_cached_output_for(w));
  q->options.bitwidth(8);

  const torch::Tensor other = parameter(1000, 2);
  EXPECT_FALSE(q->has_cached_output_for(other)) << "another parameter";
  EXPECT_FALSE(q->has_cached_output_for(w.detach())) << "not a parameter: never cached";
  EXPECT_FALSE(q->forward(w.detach() * 1.0).is_same(q->forward(w.detach() * 1.0)));
}

TEST(QuantizerCacheTest, GradModeBypassesAndDropsTheCache) {
  QuantizerNode q(QuantizerOptions(8).enabled(true));
  q->set_encoding(make_encoding(-2, 2, 8, Symmetry::asymmetric));
  q->set_cache_output(true);
  const torch::Tensor w = parameter(100, 3);
  {
    torch::NoGradGuard no_grad;
    q->forward(w);
    EXPECT_TRUE(q->has_cached_output_for(w));
  }
  const torch::Tensor trained = q->forward(w);  // grad mode on: a graph, not the cache
  EXPECT_TRUE(trained.requires_grad());
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(q->has_cached_output_for(w)) << "dropped by the training forward";
  q->set_cache_output(false);
  EXPECT_FALSE(q->forward(w).is_same(q->forward(w)));
}

TEST(QuantizerCacheTest, LearnedGridCachesUntilTheRangeMoves) {
  QuantizerNode q(QuantizerOptions(8).symmetry(Symmetry::symmetric).enabled(true));
  q->set_encoding(make_encoding(-2, 2, 8, Symmetry::symmetric));
  q->switch_to_learned_grid();
  q->set_cache_output(true);
  const torch::Tensor w = parameter(500, 4);
  torch::NoGradGuard no_grad;
  const torch::Tensor first = q->forward(w);
  EXPECT_TRUE(q->forward(w).is_same(first));
  q->encoding_max.mul_(0.5);  // a range-learning step
  const torch::Tensor moved = q->forward(w);
  EXPECT_FALSE(moved.is_same(first));
  QuantizerNode fresh(QuantizerOptions(8).symmetry(Symmetry::symmetric).enabled(true));
  fresh->set_encoding(make_encoding(-2, 2, 8, Symmetry::symmetric));
  fresh->switch_to_learned_grid();
  fresh->encoding_max.mul_(0.5);
  EXPECT_TRUE(torch::equal(moved, fresh->forward(w)));
}

}  // namespace
}  // namespace qsim::quant
