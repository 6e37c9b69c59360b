// Fused output quantizers (quant/prepared_fake_quant.hpp): every block that fuses
// its output quantizer into its own pass gives, bit for bit, what the unfused path
// gives (the op, then the quantizer over the whole result) — on the static grid,
// the learned grid and with embedding groups, at sizes below, at and above one
// chunk — and the fused path really ran (the fusion counter moved).

#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/nn/elementwise.hpp"
#include "qsim/nn/gelu.hpp"
#include "qsim/nn/layer_norm.hpp"
#include "qsim/nn/linear.hpp"
#include "qsim/nn/softmax.hpp"
#include "qsim/quant/embedding_groups.hpp"
#include "qsim/quant/prepared_fake_quant.hpp"

namespace qsim::nn {
namespace {

enum class Grid { static_grid, learned_grid, groups };

std::string name(Grid g) {
  return g == Grid::static_grid ? "static" : (g == Grid::learned_grid ? "learned" : "groups");
}

// Turns the block's output quantizer on with a range around the data.
void configure(quant::QuantizerNode q, Grid grid, int64_t channels) {
  q->options.bitwidth(8).enabled(true);
  if (grid == Grid::groups) {
    q->options.embedding_groups(3);
    std::vector<int64_t> layout;
    for (int64_t c = 0; c < channels; ++c) layout.push_back(c % 3);
    q->set_group_of_channel(layout);
    q->set_encodings({quant::make_encoding(-0.5, 0.5, 8, quant::Symmetry::asymmetric),
                      quant::make_encoding(-2, 3, 8, quant::Symmetry::asymmetric),
                      quant::make_encoding(-1, 1, 8, quant::Symmetry::asymmetric)});
    return;
  }
  q->set_encoding(quant::make_encoding(-1.5, 2.5, 8, quant::Symmetry::asymmetric));
  if (grid == Grid::learned_grid) q->switch_to_learned_grid();
}

// run(fused) builds its own inputs (the in-place ops consume them).
void expect_fused_equals_unfused(const std::function<torch::Tensor()>& run, const std::string& what) {
  torch::NoGradGuard no_grad;
  torch::Tensor unfused;
  {
    const quant::FusionGuard off(false);
    const int64_t before = quant::fused_quantizer_count();
    unfused = run();
    EXPECT_EQ(quant::fused_quantizer_count(), before) << what << ": fusion was off";
  }
  const int64_t before = quant::fused_quantizer_count();
  const torch::Tensor fused = run();
  EXPECT_GT(quant::fused_quantizer_count(), before) << what << ": the fused path did not run";
  EXPECT_TRUE(torch::equal(fused, unfused)) << what << ": max diff " << (fused - unfused).abs().max().item<float>();
}

class FusionTest : public ::testing::TestWithParam<std::tuple<Grid, int64_t>> {
 protected:
  Grid grid() const { return std::get<0>(GetParam()); }
  int64_t rows() const { return std::get<1>(GetParam()); }
  std::string what(const char* block) const { return std::string(block) + " " + name(grid()) + " rows " + std::to_string(rows()); }
  torch::Tensor input(int64_t cols, uint64_t seed) const {
    torch::manual_seed(seed);
    return torch::randn({2, rows(), cols}) * 1.7;
  }
};

TEST_P(FusionTest, Linear) {
  torch::manual_seed(3);
  Linear linear(48, 33);
  configure(linear->output_quantizer, grid(), 33);
  const torch::Tensor x = input(48, 1);
  expect_fused_equals_unfused([&] { return linear(x); }, what("Linear"));
}

TEST_P(FusionTest, MatMul) {
  MatMul matmul;
  configure(matmul->output_quantizer, grid(), 21);
  const torch::Tensor a = input(16, 2);
  torch::manual_seed(4);
  const torch::Tensor b = torch::randn({2, 16, 21});
  expect_fused_equals_unfused([&] { return matmul(a.clone(), b); }, what("MatMul"));
}

TEST_P(FusionTest, AddSameShapeAndBroadcast) {
  Add add;
  configure(add->output_quantizer, grid(), 40);
  const torch::Tensor a = input(40, 5), b = input(40, 6);
  expect_fused_equals_unfused([&] { return add(a.clone(), b); }, what("Add"));
  // The attention mask's shape: one row per batch entry, broadcast over the rows.
  const torch::Tensor mask = (torch::rand({2, 1, 40}) > 0.5).to(torch::kLong) * -6;
  expect_fused_equals_unfused([&] { return add(a.clone(), mask); }, what("Add (int64 broadcast mask)"));
}

TEST_P(FusionTest, SubMulDiv) {
  Sub sub;
  Mul mul;
  Div div;
  for (auto q : {sub->output_quantizer, mul->output_quantizer, div->output_quantizer}) configure(q, grid(), 24);
  const torch::Tensor a = input(24, 7), b = input(24, 8).abs() + 0.5;
  expect_fused_equals_unfused([&] { return sub(a.clone(), b); }, what("Sub"));
  expect_fused_equals_unfused([&] { return mul(a.clone(), b); }, what("Mul"));
  expect_fused_equals_unfused([&] { return div(a.clone(), b); }, what("Div"));
}

TEST_P(FusionTest, GeluSoftmaxLayerNorm) {
  GELU gelu;
  Softmax softmax(-1);
  LayerNorm norm(LayerNormOptions({36}));
  {
    torch::NoGradGuard no_grad;
    norm->weight.uniform_(0.5, 1.5);
    norm->bias.uniform_(-0.2, 0.2);
  }
  for (auto q : {gelu->output_quantizer, softmax->output_quantizer, norm->output_quantizer}) configure(q, grid(), 36);
  const torch::Tensor x = input(36, 9);
  expect_fused_equals_unfused([&] { return gelu(x); }, what("GELU"));
  expect_fused_equals_unfused([&] { return softmax(x); }, what("Softmax"));
  expect_fused_equals_unfused([&] { return norm(x); }, what("LayerNorm"));
}

TEST_P(FusionTest, DivisionIntoTheNextBlocksInputQuantizer) {
  Add mask_add;
  configure(mask_add->input_quantizer(0), grid(), 30);
  const torch::Tensor scores = input(30, 10);
  const torch::Tensor mask = torch::zeros({2, 1, 30}, torch::kLong);
  expect_fused_equals_unfused(
      [&] {
        const detail::ChunkedResult scaled = detail::divide_into(scores.clone(), 8.0, *mask_add->input_quantizer(0));
        return scaled.quantized ? mask_add->forward_prequantized(scaled.value, mask) : mask_add(scaled.value, mask);
      },
      what("scale + mask_add input"));
}

// Rows: below one chunk, around it (32k elements / 30-48 columns), and several.
INSTANTIATE_TEST_SUITE_P(Grids, FusionTest,
                         ::testing::Combine(::testing::Values(Grid::static_grid, Grid::learned_grid, Grid::groups),
                                            ::testing::Values(int64_t{7}, int64_t{900}, int64_t{2500})),
                         [](const auto& info) {
                           return name(std::get<0>(info.param)) + "_" + std::to_string(std::get<1>(info.param));
                         });

TEST(FusionOffTest, TrainingAndCalibrationNeverFuse) {
  Linear linear(8, 8);
  configure(linear->output_quantizer, Grid::static_grid, 8);
  const torch::Tensor x = torch::randn({4, 8});
  int64_t before = quant::fused_quantizer_count();
  linear(x);  // grad mode on: autograd needs the unfused graph
  EXPECT_EQ(quant::fused_quantizer_count(), before);
  torch::NoGradGuard no_grad;
  linear->output_quantizer->set_observer([](const torch::Tensor&) {});
  before = quant::fused_quantizer_count();
  linear(x);  // an observer (calibration) must see the unquantized output
  EXPECT_EQ(quant::fused_quantizer_count(), before);
}

}  // namespace
}  // namespace qsim::nn
