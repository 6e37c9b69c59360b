// The cost of thread-invariant products (qsim::nn::thread_invariant_linear /
// _matmul: fixed row blocks, one single-threaded GEMM each) against ATen's own
// at::linear / at::matmul (one threaded GEMM) and a plain copy of the output, on
// BERT-base shapes at batch 8 × sequence 128: the Q/K/V/output projection, the
// FFN up and down projections, and the attention scores and context products.
// Results and the command: docs/benchmarks.md ("Thread-invariant GEMM").
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "qsim/nn/thread_invariant_matmul.hpp"

namespace {

constexpr int64_t kTokens = 8 * 128;

struct LinearShape {
  int64_t in, out;
};
const LinearShape kLinearShapes[] = {{768, 768}, {768, 3072}, {3072, 768}, {768, 2304}};

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

template <bool kInvariant>
void BM_Linear(benchmark::State& state) {
  const at::NoGradGuard no_grad;
  const LinearShape shape = kLinearShapes[state.range(0)];
  at::manual_seed(0);
  const at::Tensor x = at::randn({8, 128, shape.in}), w = at::randn({shape.out, shape.in}), b = at::randn({shape.out});
  for (auto _ : state) {
    at::Tensor y = kInvariant ? qsim::nn::thread_invariant_linear(x, w, b) : at::linear(x, w, b);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  set_flops(state, 2.0 * kTokens * shape.in * shape.out);
  state.SetLabel(std::to_string(shape.in) + "->" + std::to_string(shape.out));
}

// Attention: scores = q · kᵀ ([8, 12, 128, 64] · [8, 12, 64, 128]), context = p · v.
template <bool kInvariant>
void BM_AttentionMatmul(benchmark::State& state) {
  const at::NoGradGuard no_grad;
  at::manual_seed(0);
  const bool scores = state.range(0) == 0;
  const at::Tensor a = scores ? at::randn({8, 12, 128, 64}) : at::randn({8, 12, 128, 128});
  const at::Tensor b = scores ? at::randn({8, 12, 128, 64}).transpose(-1, -2) : at::randn({8, 12, 128, 64});
  for (auto _ : state) {
    at::Tensor y = kInvariant ? qsim::nn::thread_invariant_matmul(a, b) : at::matmul(a, b);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  set_flops(state, 2.0 * 8 * 12 * 128 * a.size(-1) * b.size(-1));
  state.SetLabel(scores ? "q.k^T" : "p.v");
}

// The floor: writing an output of the FFN-up size once.
void BM_CopyOutput(benchmark::State& state) {
  const at::Tensor src = at::randn({8, 128, 3072});
  at::Tensor dst = at::empty_like(src);
  for (auto _ : state) {
    dst.copy_(src);
    benchmark::DoNotOptimize(dst.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * src.numel() * static_cast<int64_t>(sizeof(float)) * 2);
}

BENCHMARK_TEMPLATE(BM_Linear, false)->Name("BM_AtenLinear")->DenseRange(0, 3)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Linear, true)->Name("BM_InvariantLinear")->DenseRange(0, 3)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_AttentionMatmul, false)->Name("BM_AtenMatmul")->DenseRange(0, 1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_AttentionMatmul, true)->Name("BM_InvariantMatmul")->DenseRange(0, 1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CopyOutput)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
