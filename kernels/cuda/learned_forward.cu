#include "kernels/cuda/learned_forward.cuh"

#include "kernels/cuda/elementwise.cuh"
#include "kernels/fake_quant_scalar.hpp"

namespace qsim::kernels::cuda {
namespace {

struct LearnedQdqOp {
  LearnedGrid grid;
  struct Params {
    float delta, inv_delta, offset;
  };
  __device__ Params load(int64_t c) const { return {grid.delta[c], grid.inv_delta[c], grid.offset[c]}; }
  __device__ float apply(float x, float, const Params& p) const {
    return learned_element(x, p.delta, p.inv_delta, p.offset, grid.steps, grid.multiply).y;
  }
};

template <typename T>
void run(const T* x, T* y, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid, cudaStream_t stream) {
  detail::launch_elementwise<T, T>(x, nullptr, y, begin, end, layout, LearnedQdqOp{grid}, stream);
}

}  // namespace

void learned_forward(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid,
                     cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, stream);
}
void learned_forward(const __half* x, __half* y, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid,
                     cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, stream);
}
void learned_forward(const __nv_bfloat16* x, __nv_bfloat16* y, int64_t begin, int64_t end, ChannelLayout layout,
                     LearnedGrid grid, cudaStream_t stream) {
  run(x, y, begin, end, layout, grid, stream);
}

}  // namespace qsim::kernels::cuda
