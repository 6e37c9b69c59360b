#include "kernels/cuda/static_forward.cuh"

#include "kernels/cuda/elementwise.cuh"
#include "kernels/fake_quant_scalar.hpp"

namespace qsim::kernels::cuda {
namespace {

struct StaticQdqOp {
  StaticGrid grid;
  struct Params {
    float lo, hi, delta, offset;
  };
  __device__ Params load(int64_t c) const { return {grid.lo[c], grid.hi[c], grid.delta[c], grid.offset[c]}; }
  __device__ float apply(float x, float, const Params& p) const {
    return static_qdq(x, p.lo, p.hi, p.delta, p.offset);
  }
};

template <typename T>
void run(const T* x, T* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid, cudaStream_t stream) {
  detail::launch_elementwise<T, T>(x, nullptr, y, begin, end, layout, StaticQdqOp{grid}, stream);
}

}  // namespace

void static_forward(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                    cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, stream);
}
void static_forward(const __half* x, __half* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                    cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, stream);
}
void static_forward(const __nv_bfloat16* x, __nv_bfloat16* y, int64_t begin, int64_t end, ChannelLayout layout,
                    StaticGrid grid, cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, stream);
}

}  // namespace qsim::kernels::cuda
