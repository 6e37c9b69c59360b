// The output pool: freed large blocks come back for the same size (no fresh
// pages in steady state), small tensors bypass it, the limit holds, and pooled
// tensors behave as any other tensor.

#include "qsim/quant/output_pool.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/quant/encoding.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"
#include "qsim/quant/recipe.hpp"

namespace qsim::quant {
namespace {

class OutputPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_limit_ = output_pool_limit();
    release_output_pool();
  }
  void TearDown() override { set_output_pool_limit(saved_limit_); }
  std::size_t saved_limit_ = 0;
};

TEST_F(OutputPoolTest, AFreedBlockServesTheNextAllocationOfItsSize) {
  const void* first = nullptr;
  {
    const at::Tensor a = pooled_empty({1024, 1024});  // 4 MiB
    first = a.data_ptr();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % (std::uintptr_t{2} << 20), 0u) << "2 MiB aligned";
    EXPECT_EQ(output_pool_stats().live_bytes, std::size_t{4} << 20);
  }
  const OutputPoolStats freed = output_pool_stats();
  EXPECT_EQ(freed.cached_bytes, std::size_t{4} << 20);
  EXPECT_EQ(freed.live_bytes, 0u);
  const at::Tensor b = pooled_empty({4 << 20}, at::kByte);  // same rounded size, other dtype and shape
  EXPECT_EQ(b.data_ptr(), first);
  EXPECT_EQ(output_pool_stats().hits, freed.hits + 1);
  EXPECT_EQ(output_pool_stats().cached_bytes, 0u);
  const at::Tensor c = pooled_empty({1024, 1024});  // the block is taken: a new one
  EXPECT_NE(c.data_ptr(), first);
  EXPECT_EQ(output_pool_stats().misses, freed.misses + 1);
}

// Fake quant outputs come from the pool unless autograd records the op: a plain
// tensor is served from it in grad mode too; a tensor that requires grad is not
// (its output may be saved for backward).
TEST_F(OutputPoolTest, FakeQuantPoolsUnlessAutogradRecordsIt) {
  const Encoding e{8, -2.0, 2.5, 0.0, 0.0};
  const at::Tensor x = torch::randn({1 << 20});  // 4 MiB
  const auto live_after_quantize = [&](const at::Tensor& input) {
    const at::Tensor out = fake_quantize_static(input, e);
    return output_pool_stats().live_bytes;
  };
  {
    const torch::NoGradGuard no_grad;
    EXPECT_EQ(live_after_quantize(x), std::size_t{4} << 20) << "inference";
  }
  ASSERT_TRUE(torch::GradMode::is_enabled());
  EXPECT_EQ(live_after_quantize(x), std::size_t{4} << 20) << "grad mode, input without grad";
  EXPECT_EQ(live_after_quantize(x.clone().requires_grad_()), 0u) << "recorded by autograd";
}

// The recipe-keeping add and division (FP32 mode's residual adds and attention
// scale) write into the pool where autograd does not record: the same bits as
// at::add and `x / d`; a non-contiguous or recorded operand keeps ATen's result.
TEST_F(OutputPoolTest, PlainAddAndDivisionPoolTheirResult) {
  const at::Tensor a = torch::randn({8, 128, 768});  // 3 MiB
  const at::Tensor b = torch::randn({768});
  const at::Tensor mask = torch::randint(-6, 1, {8, 128, 1}, torch::kLong);
  {
    const torch::NoGradGuard no_grad;
    const at::Tensor sum = add_keeping_recipe(a, b);
    EXPECT_EQ(output_pool_stats().live_bytes, std::size_t{4} << 20) << "one 2 MiB-rounded block";
    EXPECT_TRUE(torch::equal(sum, at::add(a, b)));
    const at::Tensor masked = add_keeping_recipe(a, mask);  // int64 promoted, as at::add does
    EXPECT_TRUE(torch::equal(masked, at::add(a, mask)));
    // √96 (not a power of two: a reciprocal multiply would round differently).
    const at::Tensor quotient = divide_keeping_recipe(a, std::sqrt(96.0));
    EXPECT_TRUE(torch::equal(quotient, a / std::sqrt(96.0)));
    EXPECT_EQ(output_pool_stats().live_bytes, std::size_t{12} << 20);
    const at::Tensor strided = add_keeping_recipe(a.transpose(0, 1), b);
    EXPECT_EQ(output_pool_stats().live_bytes, std::size_t{12} << 20) << "non-contiguous: ATen's own result";
    EXPECT_TRUE(torch::equal(strided, at::add(a.transpose(0, 1), b)));
  }
  const at::Tensor recorded = add_keeping_recipe(a.clone().requires_grad_(), b);
  EXPECT_EQ(output_pool_stats().live_bytes, 0u) << "recorded by autograd";
  EXPECT_TRUE(recorded.requires_grad());
}

// Range-learning gradients: pooled only as large as glibc maps anew (32 MiB up);
// smaller ones come from glibc's heap, which recycles them itself.
TEST_F(OutputPoolTest, OnlyFreshlyMappedGradientsArePooled) {
  const at::Tensor min = torch::tensor({-2.0f}), max = torch::tensor({2.5f});
  const auto live_with_gradient = [&](int64_t n) {
    const at::Tensor x = torch::randn({n});
    const RangeLearningGrads grads = range_learning_backward(x, x * 0.1, min, max, RangeLearningOptions{});
    return output_pool_stats().live_bytes;
  };
  EXPECT_EQ(live_with_gradient(int64_t{1} << 20), 0u) << "4 MiB";
  EXPECT_EQ(live_with_gradient(int64_t{9} << 20), std::size_t{36} << 20) << "36 MiB";
  EXPECT_EQ(output_pool_stats().live_bytes, 0u);
}

TEST_F(OutputPoolTest, SmallTensorsAndAZeroLimitBypassThePool) {
  const OutputPoolStats before = output_pool_stats();
  { const at::Tensor small = pooled_empty({1000}); }
  EXPECT_EQ(output_pool_stats().misses, before.misses);
  EXPECT_EQ(output_pool_stats().cached_bytes, 0u);
  { const at::Tensor big = pooled_empty({1 << 20}); }
  EXPECT_GT(output_pool_stats().cached_bytes, 0u);
  set_output_pool_limit(0);
  EXPECT_EQ(output_pool_stats().cached_bytes, 0u) << "a zero limit frees the cache";
  const OutputPoolStats off = output_pool_stats();
  { const at::Tensor big = pooled_empty({1 << 20}); }
  EXPECT_EQ(output_pool_stats().misses, off.misses);
  EXPECT_EQ(output_pool_stats().cached_bytes, 0u);
}

TEST_F(OutputPoolTest, TheLimitCapsTheCachedBytes) {
  set_output_pool_limit(std::size_t{6} << 20);
  {
    std::vector<at::Tensor> live;
    for (int i = 0; i < 4; ++i) live.push_back(pooled_empty({1 << 20}));  // 4 MiB each
  }
  EXPECT_EQ(output_pool_stats().cached_bytes, std::size_t{4} << 20) << "one 4 MiB block fits under 6 MiB";
  EXPECT_EQ(output_pool_stats().live_bytes, 0u);
}

TEST_F(OutputPoolTest, PooledTensorsAreOrdinaryTensors) {
  const at::Tensor x = torch::randn({600, 1000});
  at::Tensor y = pooled_empty(x.sizes());
  y.copy_(x);
  EXPECT_TRUE(torch::equal(y, x));
  y.add_(1.0);
  EXPECT_TRUE(torch::allclose(y - 1.0, x, 0.0, 1e-6));
  const at::Tensor w = y.clone().requires_grad_(true);
  (w * y).sum().backward();
  EXPECT_TRUE(torch::equal(w.grad(), y));
  // Fake quant's inference outputs come from the pool and are right; when autograd
  // records it (training) they do not, so that freed blocks never add to its peak.
  const Encoding e = make_encoding(-1, 1, 8, Symmetry::asymmetric);
  const OutputPoolStats before = output_pool_stats();
  const at::Tensor trained = fake_quantize_static(x.clone().requires_grad_(), e).detach();
  EXPECT_EQ(output_pool_stats().live_bytes, before.live_bytes);
  torch::NoGradGuard no_grad;
  const at::Tensor q = fake_quantize_static(x, e);
  EXPECT_EQ(output_pool_stats().live_bytes, before.live_bytes + (std::size_t{4} << 20));
  EXPECT_TRUE(torch::equal(q, trained));
}

TEST_F(OutputPoolTest, ManyThreadsShareIt) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 200; ++i) {
        at::Tensor a = pooled_empty({(1 << 18) * (1 + i % 3)});
        a.fill_(1.0f);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const OutputPoolStats s = output_pool_stats();
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_LE(s.cached_bytes, output_pool_limit());
}

}  // namespace
}  // namespace qsim::quant
