// The analysis layer's CUDA statistics in a build without CUDA dispatch: update_stats
// copies CUDA batches to the host there, so these are never reached; they throw
// rather than do nothing.
#include "analysis/cuda/stats_cuda.hpp"
#include "detail/check.hpp"

namespace qsim::analysis::detail::cuda {
namespace {

[[noreturn]] void unavailable(const char* pass) {
  ::qsim::detail::raise<ValueError>("{}: CUDA values, but this qsim was built without CUDA dispatch", pass);
}

}  // namespace

kernels::cpu::MinMax minmax(const FloatBatch&) { unavailable("batch min/max"); }
bool histogram_rounded(const FloatBatch&, float, float, BucketCounts&) { unavailable("batch histogram"); }
bool histogram_truncated(const FloatBatch&, float, float, BucketCounts&) { unavailable("batch histogram"); }

}  // namespace qsim::analysis::detail::cuda
