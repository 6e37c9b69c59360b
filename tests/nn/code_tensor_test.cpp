// Code tensors (quant/codes.hpp) reaching a block: a GELU or Linear with no kernel,
// or whose kernel declines, computes exactly what it computes on the codes' float
// values; an attached kernel that applies is used instead.
#include <optional>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/nn/gelu.hpp"
#include "qsim/nn/linear.hpp"
#include "qsim/quant/codes.hpp"

namespace {

using namespace qsim;

const quant::CodeGrid kGrid{0.05f, 120};

torch::Tensor some_codes() {
  torch::manual_seed(2);
  return quant::float_to_codes(torch::randn({3, 4, 16}) * 2.0, kGrid);
}

// Counts its calls and answers `answer`.
class FixedKernel : public nn::CodeKernel {
 public:
  explicit FixedKernel(std::optional<torch::Tensor> answer) : answer_(std::move(answer)) {}
  std::optional<torch::Tensor> forward(const torch::Tensor&) override {
    ++calls;
    return answer_;
  }
  int calls = 0;

 private:
  std::optional<torch::Tensor> answer_;
};

TEST(CodeTensorTest, GeluWithoutAKernelComputesOnTheValues) {
  nn::GELU gelu;
  const torch::Tensor codes = some_codes();
  EXPECT_TRUE(torch::equal(gelu(codes), gelu(quant::codes_to_float(codes))));
}

TEST(CodeTensorTest, GeluOffersCodesToItsKernelFirst) {
  nn::GELU gelu;
  const torch::Tensor codes = some_codes();
  auto declines = std::make_shared<FixedKernel>(std::nullopt);
  gelu->kernel = declines;
  EXPECT_TRUE(torch::equal(gelu(codes), gelu(quant::codes_to_float(codes))));
  EXPECT_EQ(declines->calls, 1) << "float inputs never reach the kernel";
  const torch::Tensor mine = quant::float_to_codes(torch::zeros({2}), kGrid);
  auto applies = std::make_shared<FixedKernel>(mine);
  gelu->kernel = applies;
  EXPECT_TRUE(gelu(codes).is_same(mine));
  EXPECT_EQ(applies->calls, 1);
  EXPECT_EQ(gelu->clone()->as<nn::GELU>()->kernel, nullptr) << "a clone computes in float";
}

TEST(CodeTensorTest, LinearWithoutAKernelComputesOnTheValues) {
  torch::manual_seed(4);
  nn::Linear linear(16, 5);
  const torch::Tensor codes = some_codes();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(linear(codes), linear(quant::codes_to_float(codes))));
}

}  // namespace
