// thread_invariant_matmul / _linear: the products ATen computes (to float
// rounding), with bits that do not change with the number of threads, and plain
// ATen whenever autograd records or the operands are not float CPU tensors.
#include <functional>
#include <vector>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/nn/thread_invariant_matmul.hpp"

namespace {

using qsim::nn::kRowBlock;
using qsim::nn::takes_thread_invariant_path;
using qsim::nn::thread_invariant_linear;
using qsim::nn::thread_invariant_matmul;

// Restores the intra-op thread count the test binary started with.
class ThreadCount {
 public:
  ThreadCount() : saved_(at::get_num_threads()) {}
  ~ThreadCount() { at::set_num_threads(saved_); }

 private:
  int saved_;
};

// `product` at 1, 2 and 3 threads: all results bit-identical.
void expect_same_bits_for_any_thread_count(const std::function<torch::Tensor()>& product) {
  const ThreadCount restore;
  at::set_num_threads(1);
  const torch::Tensor reference = product();
  for (int threads : {2, 3}) {
    at::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(product(), reference)) << threads << " threads";
  }
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual, expected, 1e-5, 1e-5)) << (actual - expected).abs().max().item<float>();
}

// Row counts below, at and across block boundaries, and shapes with odd K / N.
const std::vector<int64_t> kRows = {1, 7, kRowBlock, kRowBlock + 1, 3 * kRowBlock + 5};

TEST(ThreadInvariantMatmulTest, MatchesAtenForMatrixTimesMatrix) {
  const torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  for (int64_t rows : kRows) {
    const torch::Tensor a = torch::randn({rows, 33}), b = torch::randn({33, 17});
    ASSERT_TRUE(takes_thread_invariant_path(a, b));
    expect_close(thread_invariant_matmul(a, b), at::matmul(a, b));
  }
}

TEST(ThreadInvariantMatmulTest, MatchesAtenForBatchedOperands) {
  const torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  const torch::Tensor a = torch::randn({2, 3, kRowBlock + 9, 16}), b = torch::randn({2, 3, 16, 70});
  expect_close(thread_invariant_matmul(a, b), at::matmul(a, b));
  const torch::Tensor shared = torch::randn({16, 5});  // 2-D right operand: rows of every batch entry
  expect_close(thread_invariant_matmul(a, shared), at::matmul(a, shared));
}

TEST(ThreadInvariantMatmulTest, AcceptsNonContiguousOperands) {
  const torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  const torch::Tensor a = torch::randn({4, 24, 150}).transpose(1, 2);  // [4, 150, 24], strided
  const torch::Tensor b = torch::randn({4, 40, 24}).transpose(1, 2);   // [4, 24, 40], like k^T in attention
  expect_close(thread_invariant_matmul(a, b), at::matmul(a, b));
}

TEST(ThreadInvariantMatmulTest, BitsDoNotDependOnTheThreadCount) {
  const torch::NoGradGuard no_grad;
  torch::manual_seed(4);
  const torch::Tensor a = torch::randn({8, 4, 128, 64}), b = torch::randn({8, 4, 64, 128});
  expect_same_bits_for_any_thread_count([&] { return thread_invariant_matmul(a, b); });
  const torch::Tensor x = torch::randn({16, 128, 256}), w = torch::randn({384, 256}), bias = torch::randn({384});
  expect_same_bits_for_any_thread_count([&] { return thread_invariant_linear(x, w, bias); });
}

// Under InferenceMode the output is an inference tensor; pool threads must write
// into it in the caller's mode (bert_bench's forward threw here once).
TEST(ThreadInvariantMatmulTest, WorksUnderInferenceModeOnSeveralThreads) {
  const ThreadCount restore;
  at::set_num_threads(2);
  torch::manual_seed(6);
  const torch::Tensor a = torch::randn({4, 3, 200, 32}), b = torch::randn({4, 3, 32, 50});
  const torch::Tensor x = torch::randn({2, 300, 64}), w = torch::randn({96, 64}), bias = torch::randn({96});
  const c10::InferenceMode inference;
  EXPECT_TRUE(takes_thread_invariant_path(a, b));
  EXPECT_TRUE(torch::allclose(thread_invariant_matmul(a, b), torch::matmul(a, b), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(thread_invariant_linear(x, w, bias), torch::linear(x, w, bias), 1e-5, 1e-5));
}

TEST(ThreadInvariantMatmulTest, LeavesTheThreadCountAsItFoundIt) {
  const torch::NoGradGuard no_grad;
  const ThreadCount restore;
  at::set_num_threads(2);
  // Several blocks run in a parallel region; a single block runs inline on the
  // calling thread, whose OpenMP thread count the BLAS pin changes and must restore.
  for (int64_t rows : {kRowBlock * 5, kRowBlock / 2}) {
    thread_invariant_matmul(torch::randn({rows, 20}), torch::randn({20, 30}));
    EXPECT_EQ(at::get_num_threads(), 2) << rows << " rows";
  }
}

TEST(ThreadInvariantLinearTest, MatchesAtenLinearWithAndWithoutBias) {
  const torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  const torch::Tensor w = torch::randn({19, 48}), bias = torch::randn({19});
  for (int64_t rows : kRows) {
    const torch::Tensor x = torch::randn({2, rows, 48});
    expect_close(thread_invariant_linear(x, w, bias), at::linear(x, w, bias));
    expect_close(thread_invariant_linear(x, w, {}), at::linear(x, w));
  }
  const torch::Tensor vector = torch::randn({48});
  expect_close(thread_invariant_linear(vector, w, bias), at::linear(vector, w, bias));
}

TEST(ThreadInvariantMatmulTest, IsAtenWhileAutogradRecords) {
  torch::manual_seed(6);
  const torch::Tensor a = torch::randn({70, 8}, torch::requires_grad()), b = torch::randn({8, 3});
  EXPECT_FALSE(takes_thread_invariant_path(a, b));
  const torch::Tensor out = thread_invariant_matmul(a, b);
  EXPECT_TRUE(torch::equal(out, at::matmul(a, b)));
  out.sum().backward();
  EXPECT_TRUE(torch::equal(a.grad(), b.sum(1).expand({70, 8})));

  const torch::Tensor w = torch::randn({3, 8}), bias = torch::randn({3}, torch::requires_grad());
  const torch::Tensor y = thread_invariant_linear(torch::randn({70, 8}), w, bias);
  EXPECT_TRUE(y.requires_grad());
  y.sum().backward();
  EXPECT_TRUE(torch::equal(bias.grad(), torch::full({3}, 70.0f)));
}

TEST(ThreadInvariantMatmulTest, IsAtenForOtherDtypesAndMismatchedShapes) {
  const torch::NoGradGuard no_grad;
  const torch::Tensor a = torch::randn({90, 6}, torch::kDouble), b = torch::randn({6, 4}, torch::kDouble);
  EXPECT_FALSE(takes_thread_invariant_path(a, b));
  EXPECT_TRUE(torch::equal(thread_invariant_matmul(a, b), at::matmul(a, b)));
  // Broadcast batch dimensions are ATen's business, and so is its error for bad shapes.
  const torch::Tensor batched = torch::randn({2, 1, 5, 6}), other = torch::randn({3, 6, 4});
  EXPECT_FALSE(takes_thread_invariant_path(batched, other));
  EXPECT_TRUE(torch::equal(thread_invariant_matmul(batched, other), at::matmul(batched, other)));
  EXPECT_THROW(thread_invariant_matmul(torch::randn({5, 6}), torch::randn({7, 4})), c10::Error);
}

}  // namespace
