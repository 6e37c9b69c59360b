// AdaRound at BERT-base shapes ([out, in] = 768×768, 3072×768, 768×3072), 2 threads.
//  * BM_ElementwiseQsim: one step's element-wise work as qsim does it (SoftRounding:
//    ATen's vectorized sigmoid and pow, then kernels/cpu/adaround's fused soft-weight
//    and gradient + Adam passes), after the warm start (regularizer on);
//  * BM_ElementwiseAten: the same step composed of ATen ops, as a PyTorch
//    implementation (AIMET's) computes it;
//  * BM_CopyFloor: copying the bytes the fused path must read and write once (V, base,
//    σ, W̃, |2h−1|, its power, dL/dW̃, m, s), the memory-bound floor;
//  * BM_Layer: a whole layer, 10 000 iterations of 32 rows (the GEMM pair included)
//    on 4096 cached rows: the time per block in docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "ptq/soft_rounding.hpp"
#include "qsim/ptq/adaround.hpp"

namespace {

using qsim::ptq::AdaroundOptions;
using qsim::ptq::WeightGrid;

WeightGrid grid_for(const at::Tensor& w) {
  const double a = w.abs().max().item<double>();
  return WeightGrid::from_encodings({qsim::quant::make_encoding(-a, a, 4, qsim::quant::Symmetry::symmetric)}, "bench");
}

at::Tensor weight(const benchmark::State& state) {
  torch::manual_seed(0);
  return torch::randn({state.range(0), state.range(1)}) * 0.02;
}

constexpr int64_t kIterations = 10000;  // the step index only decides β; past the warm start

void BM_ElementwiseQsim(benchmark::State& state) {
  const at::Tensor w = weight(state);
  qsim::ptq::detail::SoftRounding soft(w, grid_for(w), AdaroundOptions().iterations(kIterations));
  const at::Tensor grad = torch::randn_like(w) * 1e-3;
  int64_t step = kIterations / 2;
  for (auto _ : state) {
    benchmark::DoNotOptimize(soft.soft_weight().data_ptr());
    benchmark::DoNotOptimize(soft.step(grad, step));
  }
  state.SetItemsProcessed(state.iterations() * w.numel());
}

void BM_ElementwiseAten(benchmark::State& state) {
  const at::Tensor w = weight(state);
  const WeightGrid g = grid_for(w);
  const double delta = g.delta[0], lo = g.code_min[0], hi = g.code_max[0], lambda = 0.01, beta = 11.0;
  const at::Tensor base = (w / delta).floor();
  at::Tensor v = -torch::log(1.2 / ((w / delta - base) + 0.1) - 1.0);
  at::Tensor m = torch::zeros_like(w), s = torch::zeros_like(w);
  const at::Tensor grad_w = torch::randn_like(w) * 1e-3;
  const double b1 = 0.9, b2 = 0.999, t = 100.0;
  for (auto _ : state) {
    const at::Tensor sig = torch::sigmoid(v);
    const at::Tensor raw = sig * 1.2 - 0.1;
    const at::Tensor h = raw.clamp(0, 1);
    const at::Tensor code = base + h;
    benchmark::DoNotOptimize((code.clamp(lo, hi) * delta).data_ptr());
    const at::Tensor centred = 2 * h - 1;
    const at::Tensor dreg = -2.0 * beta * centred.abs().pow(beta - 1) * centred.sign();
    const at::Tensor dh = grad_w * delta * ((code > lo) & (code < hi)) + lambda * dreg;
    const at::Tensor g = dh * 1.2 * sig * (1 - sig) * ((raw > 0) & (raw < 1));
    m.mul_(b1).add_(g, 1 - b1);
    s.mul_(b2).addcmul_(g, g, 1 - b2);
    v.addcdiv_(m, s.sqrt() / std::sqrt(1 - std::pow(b2, t)) + 1e-8, -1e-3 / (1 - std::pow(b1, t)));
  }
  state.SetItemsProcessed(state.iterations() * w.numel());
}

void BM_CopyFloor(benchmark::State& state) {
  const at::Tensor w = weight(state);
  constexpr int kBuffers = 9;
  std::vector<at::Tensor> from, to;
  for (int i = 0; i < kBuffers; ++i) {
    from.push_back(torch::randn_like(w));
    to.push_back(torch::empty_like(w));
  }
  for (auto _ : state) {
    for (int i = 0; i < kBuffers; ++i) to[static_cast<std::size_t>(i)].copy_(from[static_cast<std::size_t>(i)]);
    benchmark::DoNotOptimize(to.back().data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * w.numel());
}

void BM_Layer(benchmark::State& state) {
  const at::Tensor w = weight(state), b = torch::randn({w.size(0)}) * 0.02;
  const at::Tensor x = torch::randn({4096, w.size(1)});
  const at::Tensor y = torch::nn::functional::linear(x, w, b);
  for (auto _ : state) {
    qsim::ptq::AdaroundLayerResult r;
    r.name = "bench";
    benchmark::DoNotOptimize(qsim::ptq::adaround_weight(w, b, grid_for(w), x, y, qsim::ptq::AdaroundActivation::none,
                                                        AdaroundOptions().iterations(kIterations).log_every(0), r)
                                 .data_ptr());
    state.counters["nearest_loss"] = r.nearest_loss;
    state.counters["adaround_loss"] = r.adaround_loss;
  }
}

void shapes(benchmark::internal::Benchmark* b) {
  b->Args({768, 768})->Args({3072, 768})->Args({768, 3072})->ArgNames({"out", "in"});
}

BENCHMARK(BM_ElementwiseQsim)->Apply(shapes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ElementwiseAten)->Apply(shapes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CopyFloor)->Apply(shapes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Layer)->Apply(shapes)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
