#include "kernels/cuda/static_codes.cuh"

#include "kernels/cuda/elementwise.cuh"
#include "kernels/fake_quant_scalar.hpp"

namespace qsim::kernels::cuda {
namespace {

struct StaticCodesOp {
  StaticGrid grid;
  const float* shift;
  struct Params {
    float lo, hi, delta, offset, shift;
  };
  __device__ Params load(int64_t c) const {
    return {grid.lo[c], grid.hi[c], grid.delta[c], grid.offset[c], shift[c]};
  }
  __device__ float apply(float x, float, const Params& p) const {
    return static_code(x, p.lo, p.hi, p.delta, p.offset) - p.shift;
  }
};

template <typename T>
void run(const T* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid, const float* shift,
         cudaStream_t stream) {
  detail::launch_elementwise<T, float>(x, nullptr, y, begin, end, layout, StaticCodesOp{grid, shift}, stream);
}

}  // namespace

void static_codes(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                  const float* shift, cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, shift, stream);
}
void static_codes(const __half* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                  const float* shift, cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, shift, stream);
}
void static_codes(const __nv_bfloat16* x, float* y, int64_t begin, int64_t end, ChannelLayout layout,
                  StaticGrid grid, const float* shift, cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, shift, stream);
}

}  // namespace qsim::kernels::cuda
