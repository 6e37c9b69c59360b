// The int8 backend's input and output conversions (kernels/cpu/quantize_u8) on a
// BERT-base FFN activation (batch 8 × 128 tokens × 3072), on ATen's threads
// (QSIM_BENCH_THREADS) in chunks as
// sim/int8_backend runs them, against ATen's quantize_per_tensor / dequantize (what
// the backend used before) and a plain copy of the float tensor (the memory floor).
// Results and the command: docs/benchmarks.md ("int8 backend conversions").
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include "kernels/cpu/quantize_u8.hpp"

namespace {

constexpr int64_t kElements = 8 * 128 * 3072;
constexpr float kDelta = 0.02f;
constexpr int32_t kZeroPoint = 100;

at::Tensor activation() {
  at::manual_seed(0);
  return at::randn({kElements});
}

void BM_QuantizeU8(benchmark::State& state) {
  const at::Tensor x = activation();
  at::Tensor q = at::empty({kElements}, at::kByte);
  for (auto _ : state) {
    at::parallel_for(0, kElements, 1 << 14, [&](int64_t begin, int64_t end) {
      qsim::kernels::cpu::quantize_u8(x.data_ptr<float>() + begin, q.data_ptr<uint8_t>() + begin, end - begin, kDelta,
                                      kZeroPoint);
    });
    benchmark::DoNotOptimize(q.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kElements * 5);
}

void BM_AtenQuantizePerTensor(benchmark::State& state) {
  const at::Tensor x = activation();
  for (auto _ : state) benchmark::DoNotOptimize(at::quantize_per_tensor(x, kDelta, kZeroPoint, at::kQUInt8));
  state.SetBytesProcessed(state.iterations() * kElements * 5);
}

void BM_DequantizeU8(benchmark::State& state) {
  const at::Tensor q = at::quantize_per_tensor(activation(), kDelta, kZeroPoint, at::kQUInt8).int_repr();
  at::Tensor y = at::empty({kElements});
  for (auto _ : state) {
    at::parallel_for(0, kElements, 1 << 14, [&](int64_t begin, int64_t end) {
      qsim::kernels::cpu::dequantize_u8(q.data_ptr<uint8_t>() + begin, y.data_ptr<float>() + begin, end - begin, kDelta,
                                        kZeroPoint);
    });
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kElements * 5);
}

void BM_AtenDequantize(benchmark::State& state) {
  const at::Tensor q = at::quantize_per_tensor(activation(), kDelta, kZeroPoint, at::kQUInt8);
  for (auto _ : state) benchmark::DoNotOptimize(q.dequantize());
  state.SetBytesProcessed(state.iterations() * kElements * 5);
}

void BM_CopyFloor(benchmark::State& state) {
  const at::Tensor x = activation();
  at::Tensor y = at::empty_like(x);
  for (auto _ : state) {
    y.copy_(x);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetBytesProcessed(state.iterations() * kElements * 8);
}

BENCHMARK(BM_QuantizeU8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AtenQuantizePerTensor)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DequantizeU8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AtenDequantize)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CopyFloor)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
