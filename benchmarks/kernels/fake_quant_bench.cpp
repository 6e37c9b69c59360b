// Fake-quant throughput on 2 threads: qsim's static-grid forward (allocating and
// into a preallocated output) and range-learning backward against ATen's own ops
// and a plain copy_ into a preallocated tensor, at 1M and 16M floats. Bytes per
// iteration count every tensor read and written, so GB/s compare directly.
// BM_ChunkInPlace is the case fused output quantizers run: one 32K-float chunk of
// an op's output, still in cache, quantized in place on one thread by the kernel's
// AVX2 and AVX-512 loops, against a memcpy of the same chunk; BM_ChunkInPlaceLanes
// the same with 768 channels innermost (parameters loaded per lane: a per-channel
// quantizer over the last axis).
// Results and the command: docs/benchmarks.md ("fake quant").
#include <cmath>
#include <cstring>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include "kernels/cpu/fake_quant_cpu.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"

namespace {

using qsim::quant::Encoding;

constexpr int64_t kChannels = 256;
const Encoding kEncoding{8, -2.0, 2.5, 0.0, 0.0};

at::Tensor input(int64_t n) {
  at::manual_seed(0);
  return at::randn({n}) * 1.5;
}

void set_bytes(benchmark::State& state, int64_t tensors_touched) {
  state.SetBytesProcessed(state.iterations() * state.range(0) * static_cast<int64_t>(sizeof(float)) * tensors_touched);
}

void BM_Copy(benchmark::State& state) {
  const at::Tensor x = input(state.range(0));
  at::Tensor out = at::empty_like(x);
  for (auto _ : state) {
    out.copy_(x);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  set_bytes(state, 2);
}

void BM_AtenFakeQuant(benchmark::State& state) {
  const at::Tensor x = input(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(at::fake_quantize_per_tensor_affine(x, 4.5 / 255, 113, 0, 255));
  set_bytes(state, 2);
}

void BM_QsimFakeQuant(benchmark::State& state) {
  const at::Tensor x = input(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(qsim::quant::fake_quantize_static(x, kEncoding));
  set_bytes(state, 2);
}

void BM_QsimFakeQuantInto(benchmark::State& state) {
  const at::Tensor x = input(state.range(0));
  at::Tensor out = at::empty_like(x);
  const std::vector<Encoding> encodings{kEncoding};
  for (auto _ : state) {
    qsim::quant::fake_quantize_static_out(x, encodings, std::nullopt, out);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  set_bytes(state, 2);
}

void BM_AtenFakeQuantPerChannel(benchmark::State& state) {
  const at::Tensor x = input(state.range(0)).reshape({kChannels, -1});
  const at::Tensor scale = at::linspace(0.01, 0.03, kChannels);
  const at::Tensor zero_point = at::full({kChannels}, 100, at::kInt);
  for (auto _ : state) {
    benchmark::DoNotOptimize(at::fake_quantize_per_channel_affine(x, scale, zero_point, 0, 0, 255));
  }
  set_bytes(state, 2);
}

void BM_QsimFakeQuantPerChannel(benchmark::State& state) {
  const at::Tensor x = input(state.range(0)).reshape({kChannels, -1});
  std::vector<Encoding> encodings;
  for (int64_t c = 0; c < kChannels; ++c) encodings.push_back({8, -1.0 - 0.01 * c, 2.0 + 0.01 * c, 0.0, 0.0});
  for (auto _ : state) benchmark::DoNotOptimize(qsim::quant::fake_quantize_static(x, encodings, 0));
  set_bytes(state, 2);
}

void BM_AtenLearnableBackward(benchmark::State& state) {
  const at::Tensor x = input(state.range(0));
  const at::Tensor g = input(state.range(0)) * 0.1;
  const at::Tensor scale = at::tensor({4.5f / 255});
  const at::Tensor zero_point = at::tensor({113.0f});
  for (auto _ : state) {
    benchmark::DoNotOptimize(at::_fake_quantize_learnable_per_tensor_affine_backward(g, x, scale, zero_point, 0, 255, 1.0));
  }
  set_bytes(state, 3);
}

void BM_QsimRangeLearningBackward(benchmark::State& state) {
  const at::Tensor x = input(state.range(0));
  const at::Tensor g = input(state.range(0)) * 0.1;
  const at::Tensor min = at::tensor({-2.0f}), max = at::tensor({2.5f});
  const qsim::quant::RangeLearningOptions options{};
  for (auto _ : state) benchmark::DoNotOptimize(qsim::quant::range_learning_backward(x, g, min, max, options));
  set_bytes(state, 3);
}

constexpr int64_t kChunk = int64_t{1} << 15;  // nn::detail::kChunkElements

std::vector<float> chunk_input() {
  const at::Tensor x = input(kChunk);
  return {x.data_ptr<float>(), x.data_ptr<float>() + kChunk};
}

// One chunk quantized in place by the loop range(0) picks: 0 = AVX2, 1 = AVX-512
// (where the CPU has it).
void chunk_in_place(benchmark::State& state, qsim::kernels::cpu::ChannelLayout layout,
                    qsim::kernels::cpu::StaticGrid grid) {
  namespace k = qsim::kernels::cpu;
  const bool avx512 = state.range(0) == 1;
  k::set_avx512_enabled(avx512);
  if (avx512 && !k::avx512_active()) state.SkipWithError("no AVX-512F on this CPU");
  std::vector<float> data = chunk_input();
  for (auto _ : state) {
    k::static_forward(data.data(), data.data(), 0, kChunk, layout, grid);
    benchmark::DoNotOptimize(data.data());
  }
  k::set_avx512_enabled(true);
  state.SetBytesProcessed(state.iterations() * kChunk * static_cast<int64_t>(sizeof(float)) * 2);
}

// Per tensor.
void BM_ChunkInPlace(benchmark::State& state) {
  const float lo = -2.0f, hi = 2.5f, delta = (hi - lo) / 255.0f, offset = std::round(lo / delta);
  chunk_in_place(state, {1, kChunk}, {&lo, &hi, &delta, &offset});
}

// 768 channels innermost (the chunk is 42 rows and a part row).
void BM_ChunkInPlaceLanes(benchmark::State& state) {
  constexpr int64_t kLanes = 768;
  std::vector<float> lo(kLanes), hi(kLanes), delta(kLanes), offset(kLanes);
  for (int64_t c = 0; c < kLanes; ++c) {
    lo[c] = -2.0f - 0.001f * static_cast<float>(c);
    hi[c] = 2.5f + 0.002f * static_cast<float>(c);
    delta[c] = (hi[c] - lo[c]) / 255.0f;
    offset[c] = std::round(lo[c] / delta[c]);
  }
  chunk_in_place(state, {kLanes, 1}, {lo.data(), hi.data(), delta.data(), offset.data()});
}

void BM_ChunkCopy(benchmark::State& state) {
  const std::vector<float> from = chunk_input();
  std::vector<float> to(from.size());
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), from.size() * sizeof(float));
    benchmark::DoNotOptimize(to.data());
  }
  state.SetBytesProcessed(state.iterations() * kChunk * static_cast<int64_t>(sizeof(float)) * 2);
}

void sizes(benchmark::internal::Benchmark* b) { b->Arg(int64_t{1} << 20)->Arg(int64_t{1} << 24)->UseRealTime(); }

BENCHMARK(BM_Copy)->Apply(sizes);
BENCHMARK(BM_ChunkCopy);
BENCHMARK(BM_ChunkInPlace)->Arg(0)->Arg(1);
BENCHMARK(BM_ChunkInPlaceLanes)->Arg(0)->Arg(1);
BENCHMARK(BM_AtenFakeQuant)->Apply(sizes);
BENCHMARK(BM_QsimFakeQuant)->Apply(sizes);
BENCHMARK(BM_QsimFakeQuantInto)->Apply(sizes);
BENCHMARK(BM_AtenFakeQuantPerChannel)->Apply(sizes);
BENCHMARK(BM_QsimFakeQuantPerChannel)->Apply(sizes);
BENCHMARK(BM_AtenLearnableBackward)->Apply(sizes);
BENCHMARK(BM_QsimRangeLearningBackward)->Apply(sizes);

}  // namespace
