// The main() of every qsim benchmark: ATen's intra-op thread count from
// QSIM_BENCH_THREADS (default 2, this machine's cores) before Google Benchmark
// runs, so every binary and every figure in docs/benchmarks.md uses the same setting.
#include <cstdlib>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

int main(int argc, char** argv) {
  const char* threads = std::getenv("QSIM_BENCH_THREADS");
  at::set_num_threads(threads != nullptr ? std::atoi(threads) : 2);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
