// Calibration statistics: our min/max and histogram updates against ATen's
// at::aminmax and at::histc on the same 16M-float tensor, a plain copy as the
// memory floor, and the analyzers' encoding searches. Run with 2 intra-op threads
// (QSIM_BENCH_THREADS, default 2: bench_main.cpp). Results: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "qsim/analysis/encoding_analyzer.hpp"

namespace {

constexpr int64_t kElements = int64_t{1} << 24;  // 16M floats, 64 MiB

const at::Tensor& data() {
  static const at::Tensor x = [] {
    at::manual_seed(0);
    return at::randn({kElements});
  }();
  return x;
}

void set_bytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kElements * static_cast<int64_t>(sizeof(float)));
}

void BM_Copy(benchmark::State& state) {
  at::Tensor out = at::empty_like(data());
  for (auto _ : state) {
    out.copy_(data());
    benchmark::DoNotOptimize(out.data_ptr<float>());
  }
  set_bytes(state);
}

void BM_AtenAminmax(benchmark::State& state) {
  for (auto _ : state) {
    auto result = at::aminmax(data());
    benchmark::DoNotOptimize(std::get<0>(result).data_ptr<float>());
  }
  set_bytes(state);
}

// TF analyzer update: one pass for the batch min/max and the NaN/Inf check.
void BM_QsimTfUpdate(benchmark::State& state) {
  auto analyzer = qsim::analysis::make_analyzer(qsim::analysis::AnalyzerKind::tf);
  for (auto _ : state) analyzer->update_stats(data());
  set_bytes(state);
}

void BM_AtenHistc(benchmark::State& state) {
  const float lo = data().min().item<float>();
  const float hi = data().max().item<float>();
  for (auto _ : state) {
    at::Tensor h = at::histc(data(), 512, lo, hi);
    benchmark::DoNotOptimize(h.data_ptr<float>());
  }
  set_bytes(state);
}

// TF-enhanced update after the first batch fixed the histogram range: one binning
// pass (512 buckets, NaN/Inf check included) plus the pdf averaging.
void BM_QsimHistogramUpdate(benchmark::State& state) {
  auto analyzer = qsim::analysis::make_analyzer(qsim::analysis::AnalyzerKind::tf_enhanced);
  analyzer->update_stats(data());
  for (auto _ : state) analyzer->update_stats(data());
  set_bytes(state);
}

// The entropy analyzer's update: min/max pass, then the truncating binning pass.
void BM_QsimEntropyUpdate(benchmark::State& state) {
  auto analyzer = qsim::analysis::make_analyzer(qsim::analysis::AnalyzerKind::entropy);
  for (auto _ : state) analyzer->update_stats(data());
  set_bytes(state);
}

// compute_encoding on the histogram of the 16M floats (statistics collected once).
void BM_Search(benchmark::State& state, qsim::analysis::AnalyzerKind kind, qsim::quant::Symmetry symmetry) {
  auto analyzer = qsim::analysis::make_analyzer(kind, qsim::analysis::AnalyzerOptions().percentile(99.9));
  analyzer->update_stats(data());
  for (auto _ : state) benchmark::DoNotOptimize(analyzer->compute_encoding(8, symmetry));
}

using qsim::analysis::AnalyzerKind;
using qsim::quant::Symmetry;

BENCHMARK(BM_Copy)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AtenAminmax)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_QsimTfUpdate)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AtenHistc)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_QsimHistogramUpdate)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_QsimEntropyUpdate)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Search, tf_enhanced_asymmetric, AnalyzerKind::tf_enhanced, Symmetry::asymmetric)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Search, tf_enhanced_symmetric, AnalyzerKind::tf_enhanced, Symmetry::symmetric)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Search, percentile_asymmetric, AnalyzerKind::percentile, Symmetry::asymmetric)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Search, mse_asymmetric, AnalyzerKind::mse, Symmetry::asymmetric)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Search, entropy_asymmetric, AnalyzerKind::entropy, Symmetry::asymmetric)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
