#include "analysis/batch_stats.hpp"

#include <algorithm>
#include <vector>

#include <ATen/Config.h>
#include <ATen/Parallel.h>

#include "analysis/cuda/stats_cuda.hpp"
#include "kernels/cpu/histogram.hpp"

// at::parallel_for's OpenMP region lives in its header: a TU compiled without
// OpenMP flags silently runs every "parallel" loop on the calling thread.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "qsim_analysis must be compiled with OpenMP (OpenMP::OpenMP_CXX) to run its loops on ATen's threads"
#endif

namespace qsim::analysis::detail {
namespace {

// Below this many values per chunk, threads cost more than they save.
constexpr int64_t kGrain = int64_t{1} << 15;

struct Chunks {
  int64_t count;
  int64_t size;
};

Chunks split(int64_t n) {
  const int64_t most = std::max<int64_t>(1, (n + kGrain - 1) / kGrain);
  const int64_t count = std::min<int64_t>(most, std::max(1, at::get_num_threads()));
  return {count, (n + count - 1) / count};
}

// Runs body(chunk, begin, end) for every chunk, in parallel when there are several.
template <typename Body>
void for_each_chunk(int64_t n, const Chunks& chunks, Body&& body) {
  auto run = [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) {
      const int64_t begin = c * chunks.size;
      body(c, begin, std::min(n, begin + chunks.size));
    }
  };
  if (chunks.count == 1) {
    run(0, 1);
  } else {
    at::parallel_for(0, chunks.count, 1, run);
  }
}

template <typename Bin>
bool parallel_histogram(int64_t n, BucketCounts& counts, Bin&& bin) {
  const Chunks chunks = split(n);
  std::vector<BucketCounts> partial(static_cast<size_t>(chunks.count));
  std::vector<char> finite(static_cast<size_t>(chunks.count), 1);
  for_each_chunk(n, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    BucketCounts& p = partial[static_cast<size_t>(c)];
    p.fill(0);
    finite[static_cast<size_t>(c)] = bin(begin, end, p.data()) ? 1 : 0;
  });
  bool all_finite = true;
  for (int64_t c = 0; c < chunks.count; ++c) {
    const BucketCounts& p = partial[static_cast<size_t>(c)];
    for (int b = 0; b < kBuckets; ++b) counts[static_cast<size_t>(b)] += p[static_cast<size_t>(b)];
    all_finite = all_finite && finite[static_cast<size_t>(c)] != 0;
  }
  return all_finite;
}

}  // namespace

kernels::cpu::MinMax batch_minmax(const FloatBatch& batch) {
  if (batch.device.is_cuda()) return cuda::minmax(batch);
  const float* data = batch.data;
  const int64_t n = batch.size;
  const Chunks chunks = split(n);
  std::vector<kernels::cpu::MinMax> partial(static_cast<size_t>(chunks.count), kernels::cpu::empty_minmax());
  for_each_chunk(n, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    partial[static_cast<size_t>(c)] = kernels::cpu::minmax(data + begin, end - begin);
  });
  kernels::cpu::MinMax result = kernels::cpu::empty_minmax();
  for (const auto& p : partial) result = kernels::cpu::merge(result, p);
  return result;
}

bool batch_histogram_rounded(const FloatBatch& batch, float width, float offset, BucketCounts& counts) {
  if (batch.device.is_cuda()) return cuda::histogram_rounded(batch, width, offset, counts);
  return parallel_histogram(batch.size, counts, [&](int64_t begin, int64_t end, int64_t* out) {
    return kernels::cpu::histogram_rounded(batch.data + begin, end - begin, width, offset, out, kBuckets);
  });
}

bool batch_histogram_truncated(const FloatBatch& batch, float min, float width, BucketCounts& counts) {
  if (batch.device.is_cuda()) return cuda::histogram_truncated(batch, min, width, counts);
  return parallel_histogram(batch.size, counts, [&](int64_t begin, int64_t end, int64_t* out) {
    return kernels::cpu::histogram_truncated(batch.data + begin, end - begin, min, width, out, kBuckets);
  });
}

}  // namespace qsim::analysis::detail
