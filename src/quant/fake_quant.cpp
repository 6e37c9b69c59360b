#include "qsim/quant/fake_quant.hpp"

#include <cmath>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Config.h>
#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/quant/prepared_fake_quant.hpp"
#include "qsim/quant/static_grid.hpp"
#include "quant/cuda/fake_quant_cuda.hpp"
#include "quant/kernel_dispatch.hpp"
#include "quant/static_ste.hpp"

// at::parallel_for's OpenMP region lives in its header: a TU compiled without
// OpenMP flags silently runs every "parallel" loop on the calling thread.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "qsim_quant must be compiled with OpenMP (OpenMP::OpenMP_CXX) to run its loops on ATen's threads"
#endif

namespace qsim::quant {
namespace {

namespace cpu = kernels::cpu;
namespace cuda = detail::cuda;

// f32 of each channel's static-grid parameters (§2), structure of arrays.
struct StaticArrays {
  std::vector<float> lo, hi, delta, offset;
  std::vector<double> offset_double;
  cpu::StaticGrid grid() const { return {lo.data(), hi.data(), delta.data(), offset.data()}; }
  /// Rows lo, hi, Δ, o (then `extra`) on `device`, for kernels/cuda.
  at::Tensor on_device(const at::Device& device, const std::vector<float>* extra = nullptr) const {
    if (extra != nullptr) return detail::device_rows({&lo, &hi, &delta, &offset, extra}, device);
    return detail::device_rows({&lo, &hi, &delta, &offset}, device);
  }
};

StaticArrays static_arrays(const std::vector<Encoding>& encodings, std::string_view what) {
  StaticArrays a;
  for (size_t c = 0; c < encodings.size(); ++c) {
    const std::string name = encodings.size() == 1 ? std::string(what) : fmt::format("{}: channel {}", what, c);
    const StaticGridParams p = static_grid_params(encodings[c], name);
    a.lo.push_back(static_cast<float>(p.lo));
    a.hi.push_back(static_cast<float>(p.hi));
    a.delta.push_back(static_cast<float>(p.delta));
    a.offset.push_back(static_cast<float>(p.offset));
    a.offset_double.push_back(p.offset);
  }
  return a;
}

// Codes are signed (shifted by 2^(b−1)) for symmetric schemes with a negative offset.
std::vector<float> code_shifts(const std::vector<Encoding>& encodings, const StaticArrays& a, Symmetry symmetry) {
  std::vector<float> shift(encodings.size(), 0.0f);
  if (symmetry == Symmetry::asymmetric) return shift;
  for (size_t c = 0; c < encodings.size(); ++c) {
    if (a.offset_double[c] < 0.0) shift[c] = static_cast<float>(std::ldexp(1.0, encodings[c].bitwidth - 1));
  }
  return shift;
}

struct LearnedArrays {
  at::Tensor delta, inv_delta, offset;
  cuda::DeviceLearnedGrid device_grid(double steps, ScaleMode mode) const {
    return {delta, inv_delta, offset, static_cast<float>(steps), mode == ScaleMode::multiply_reciprocal};
  }
  cpu::LearnedGrid grid(double steps, ScaleMode mode) const {
    cpu::LearnedGrid g;
    g.delta = delta.data_ptr<float>();
    g.inv_delta = inv_delta.data_ptr<float>();
    g.offset = offset.data_ptr<float>();
    g.steps = static_cast<float>(steps);
    g.multiply = mode == ScaleMode::multiply_reciprocal;
    return g;
  }
};

LearnedArrays learned_arrays(const at::Tensor& x, const LearnedGridParams& p, std::string_view what) {
  QSIM_CHECK(p.delta.defined() && p.offset.defined(), ValueError, "{}: learned grid delta/offset undefined", what);
  detail::check_same_device(x, p.delta, "the learned grid's delta", what);
  detail::check_same_device(x, p.offset, "the learned grid's offset", what);
  QSIM_CHECK(p.delta.numel() == p.offset.numel(), ValueError, "{}: {} deltas but {} offsets", what,
             p.delta.numel(), p.offset.numel());
  QSIM_CHECK(std::isfinite(p.steps) && p.steps >= 1.0, ValueError, "{}: learned grid steps must be >= 1, got {}",
             what, p.steps);
  LearnedArrays a;
  a.delta = p.delta.detach().to(at::kFloat).contiguous().reshape({-1});
  a.offset = p.offset.detach().to(at::kFloat).contiguous().reshape({-1});
  a.inv_delta = at::reciprocal(a.delta);  // float32 1.0f / Δ, as PyTorch's kernels
  // On CUDA this check would stall the host on every call: a non-positive or NaN Δ
  // gives NaN/Inf outputs there instead (docs/design.md, "CUDA dispatch").
  if (x.is_cuda()) return a;
  QSIM_CHECK(at::isfinite(a.delta).all().item<bool>() && (a.delta > 0).all().item<bool>(), ValueError,
             "{}: learned grid delta must be finite and positive", what);
  return a;
}

// out = static grid of `in` (float32 on the CPU; any float dtype on CUDA, where
// out shares it).
void run_static_forward(const at::Tensor& in, const at::Tensor& out, const cpu::ChannelLayout& layout,
                        const StaticArrays& a) {
  if (in.is_cuda()) {
    cuda::static_forward(in, out, layout, a.on_device(in.device()));
    return;
  }
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const cpu::StaticGrid grid = a.grid();
  detail::parallel_chunks(in.numel(), [&](int64_t b, int64_t e) { cpu::static_forward(src, dst, b, e, layout, grid); });
}

// Two inputs of one CUDA kernel: in their own dtype when they share one, else both
// in float32, as the CPU path computes.
std::pair<at::Tensor, at::Tensor> cuda_inputs(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() == b.scalar_type()) return {a.contiguous(), b.contiguous()};
  return {detail::float_contiguous(a), detail::float_contiguous(b)};
}

void check_out(const at::Tensor& x, const at::Tensor& out, std::string_view what) {
  QSIM_CHECK(out.scalar_type() == at::kFloat && out.is_contiguous() && out.sizes() == x.sizes(), ValueError,
             "{}: output must be a contiguous float32 tensor of shape {}", what, fmt::join(x.sizes(), ", "));
  detail::check_same_device(x, out, "the output", what);
}

// The input as the kernels read it: on CUDA in its own dtype (the kernels compute
// in float32 and round back, as the CPU path's casts do), on the CPU as float32.
at::Tensor kernel_input(const at::Tensor& x) { return x.is_cuda() ? x.contiguous() : detail::float_contiguous(x); }

// A fresh output for kernel_input(x): its dtype on CUDA, float32 on the CPU.
at::Tensor kernel_output(const at::Tensor& in) {
  return in.is_cuda() ? at::empty(in.sizes(), in.options()) : detail::empty_output(in);
}

}  // namespace

void fake_quantize_static_out(const at::Tensor& x, const std::vector<Encoding>& encodings,
                              std::optional<int64_t> axis, at::Tensor& out) {
  constexpr std::string_view what = "fake_quantize_static";
  detail::check_float_input(x, what);
  const cpu::ChannelLayout layout = detail::channel_layout(x, axis, static_cast<int64_t>(encodings.size()), what);
  const StaticArrays a = static_arrays(encodings, what);
  check_out(x, out, what);
  run_static_forward(detail::float_contiguous(x), out, layout, a);
}

namespace detail {

at::Tensor static_forward(const at::Tensor& x, const std::vector<Encoding>& encodings, std::optional<int64_t> axis) {
  constexpr std::string_view what = "fake_quantize_static";
  check_float_input(x, what);
  const cpu::ChannelLayout layout = channel_layout(x, axis, static_cast<int64_t>(encodings.size()), what);
  const StaticArrays a = static_arrays(encodings, what);
  const at::Tensor in = kernel_input(x);
  const at::Tensor out = kernel_output(in);
  run_static_forward(in, out, layout, a);
  return to_input_dtype(out, x);
}

at::Tensor static_ste(const at::Tensor& y, const at::Tensor& grad, const std::vector<float>& min,
                      const std::vector<float>& max, std::optional<int64_t> axis) {
  constexpr std::string_view what = "fake_quantize_static_backward";
  check_float_input(grad, what);
  check_same_device(grad, y, "the saved output", what);
  QSIM_CHECK(y.sizes() == grad.sizes(), ValueError, "{}: grad shape [{}] differs from output shape [{}]", what,
             fmt::join(grad.sizes(), ", "), fmt::join(y.sizes(), ", "));
  const cpu::ChannelLayout layout = channel_layout(y, axis, static_cast<int64_t>(min.size()), what);
  if (grad.is_cuda()) {
    const auto [yd, gd] = cuda_inputs(y, grad);
    at::Tensor gi = at::empty(gd.sizes(), gd.options());
    cuda::static_ste_backward(yd, gd, gi, layout, device_rows({&min, &max}, grad.device()));
    return to_input_dtype(gi, grad);
  }
  const at::Tensor yf = float_contiguous(y);
  const at::Tensor gf = float_contiguous(grad);
  at::Tensor gi = empty_gradient(yf.sizes());
  const float* yp = yf.data_ptr<float>();
  const float* gp = gf.data_ptr<float>();
  float* out = gi.data_ptr<float>();
  parallel_chunks(yf.numel(), [&](int64_t b, int64_t e) {
    cpu::static_ste_backward(yp, gp, out, b, e, layout, min.data(), max.data());
  });
  return to_input_dtype(gi, grad);
}

}  // namespace detail

at::Tensor fake_quantize_static_backward(const at::Tensor& y, const at::Tensor& grad,
                                         const std::vector<Encoding>& encodings, std::optional<int64_t> axis) {
  std::vector<float> min, max;
  for (const Encoding& e : encodings) {
    min.push_back(static_cast<float>(e.min));
    max.push_back(static_cast<float>(e.max));
  }
  return detail::static_ste(y, grad, min, max, axis);
}

at::Tensor quantize_static(const at::Tensor& x, const std::vector<Encoding>& encodings, std::optional<int64_t> axis,
                           Symmetry symmetry) {
  constexpr std::string_view what = "quantize_static";
  detail::check_float_input(x, what);
  const cpu::ChannelLayout layout = detail::channel_layout(x, axis, static_cast<int64_t>(encodings.size()), what);
  const StaticArrays a = static_arrays(encodings, what);
  const std::vector<float> shift = code_shifts(encodings, a, symmetry);
  if (x.is_cuda()) {
    const at::Tensor in = x.contiguous();
    at::Tensor codes = at::empty(in.sizes(), in.options().dtype(at::kFloat));
    cuda::static_codes(in, codes, layout, a.on_device(x.device(), &shift));
    return codes;
  }
  const at::Tensor in = detail::float_contiguous(x);
  at::Tensor out = detail::empty_output(in);
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const cpu::StaticGrid grid = a.grid();
  detail::parallel_chunks(in.numel(), [&](int64_t b, int64_t e) {
    cpu::static_codes(src, dst, b, e, layout, grid, shift.data());
  });
  return out;
}

at::Tensor dequantize_static(const at::Tensor& codes, const std::vector<Encoding>& encodings,
                             std::optional<int64_t> axis, Symmetry symmetry) {
  constexpr std::string_view what = "dequantize_static";
  detail::check_float_input(codes, what);
  const cpu::ChannelLayout layout =
      detail::channel_layout(codes, axis, static_cast<int64_t>(encodings.size()), what);
  const StaticArrays a = static_arrays(encodings, what);
  const std::vector<float> shift = code_shifts(encodings, a, symmetry);
  std::vector<int64_t> shape(static_cast<size_t>(codes.dim()), 1);
  at::Tensor delta = at::tensor(a.delta).to(codes.device());
  at::Tensor base = (at::tensor(shift) + at::tensor(a.offset)).to(codes.device());
  if (axis) {
    const int64_t dim = *axis < 0 ? *axis + codes.dim() : *axis;
    shape[static_cast<size_t>(dim)] = layout.channels;
    delta = delta.reshape(shape);
    base = base.reshape(shape);
  } else {
    delta = delta.reshape({});
    base = base.reshape({});
  }
  return delta * (codes.to(at::kFloat) + base);
}

namespace {

void run_learned_forward(const at::Tensor& in, const at::Tensor& out, const cpu::ChannelLayout& layout,
                         const LearnedArrays& a, double steps, ScaleMode mode) {
  if (in.is_cuda()) {
    cuda::learned_forward(in, out, layout, a.device_grid(steps, mode));
    return;
  }
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const cpu::LearnedGrid grid = a.grid(steps, mode);
  detail::parallel_chunks(in.numel(), [&](int64_t b, int64_t e) { cpu::learned_forward(src, dst, b, e, layout, grid); });
}

}  // namespace

void fake_quantize_learned_out(const at::Tensor& x, const LearnedGridParams& params, std::optional<int64_t> axis,
                               ScaleMode mode, at::Tensor& out) {
  constexpr std::string_view what = "fake_quantize_learned";
  detail::check_float_input(x, what);
  const LearnedArrays a = learned_arrays(x, params, what);
  const cpu::ChannelLayout layout = detail::channel_layout(x, axis, a.delta.numel(), what);
  check_out(x, out, what);
  run_learned_forward(detail::float_contiguous(x), out, layout, a, params.steps, mode);
}

at::Tensor fake_quantize_learned(const at::Tensor& x, const LearnedGridParams& params, std::optional<int64_t> axis,
                                 ScaleMode mode) {
  constexpr std::string_view what = "fake_quantize_learned";
  detail::check_float_input(x, what);
  const LearnedArrays a = learned_arrays(x, params, what);
  const cpu::ChannelLayout layout = detail::channel_layout(x, axis, a.delta.numel(), what);
  const at::Tensor in = kernel_input(x);
  const at::Tensor out = kernel_output(in);
  run_learned_forward(in, out, layout, a, params.steps, mode);
  return detail::to_input_dtype(out, x);
}

namespace {

// Fixed chunking (independent of the thread count) so that the double sums are
// reproducible; the per-chunk partials are bounded to ~4M doubles.
int64_t backward_chunk_size(int64_t n, int64_t channels) {
  constexpr int64_t kChunk = 65536;
  constexpr int64_t kMaxPartials = int64_t{1} << 22;
  const int64_t max_chunks = std::max<int64_t>(1, kMaxPartials / std::max<int64_t>(channels, 1));
  const int64_t chunks = std::min((n + kChunk - 1) / kChunk, max_chunks);
  return std::max<int64_t>(kChunk, (n + chunks - 1) / std::max<int64_t>(chunks, 1));
}

// The CUDA backward: one kernel writes the input gradient and reduces the sums on
// the device (they stay there; range_learning_backward finishes on the device too).
LearnedBackward learned_backward_cuda(const at::Tensor& x, const at::Tensor& grad, const LearnedArrays& a,
                                      const cpu::ChannelLayout& layout, double steps, ScaleMode mode,
                                      bool offset_in_sum) {
  const auto [xd, gd] = cuda_inputs(x, grad);
  at::Tensor gi = at::empty(gd.sizes(), gd.options());
  at::Tensor sum_s = at::zeros({layout.channels}, x.options().dtype(at::kDouble));
  at::Tensor sum_z = at::zeros({layout.channels}, x.options().dtype(at::kDouble));
  cuda::learned_backward(xd, gd, gi, layout, a.device_grid(steps, mode), offset_in_sum, sum_s, sum_z);
  return {detail::to_input_dtype(gi, grad), sum_s, sum_z};
}

}  // namespace

LearnedBackward fake_quantize_learned_backward(const at::Tensor& x, const at::Tensor& grad,
                                               const LearnedGridParams& params, std::optional<int64_t> axis,
                                               ScaleMode mode, bool offset_in_sum) {
  constexpr std::string_view what = "fake_quantize_learned_backward";
  detail::check_float_input(x, what);
  detail::check_float_input(grad, what);
  detail::check_same_device(x, grad, "the gradient", what);
  QSIM_CHECK(x.sizes() == grad.sizes(), ValueError, "{}: grad shape [{}] differs from input shape [{}]", what,
             fmt::join(grad.sizes(), ", "), fmt::join(x.sizes(), ", "));
  const LearnedArrays a = learned_arrays(x, params, what);
  const cpu::ChannelLayout layout = detail::channel_layout(x, axis, a.delta.numel(), what);
  if (x.is_cuda()) return learned_backward_cuda(x, grad, a, layout, params.steps, mode, offset_in_sum);
  const at::Tensor xf = detail::float_contiguous(x);
  const at::Tensor gf = detail::float_contiguous(grad);
  const int64_t n = xf.numel();
  const int64_t channels = layout.channels;
  const int64_t chunk = backward_chunk_size(n, channels);
  const int64_t chunks = n == 0 ? 0 : (n + chunk - 1) / chunk;
  std::vector<double> partial_s(static_cast<size_t>(chunks * channels), 0.0);
  std::vector<double> partial_z(partial_s.size(), 0.0);
  at::Tensor gi = detail::empty_gradient(xf.sizes());
  const float* xp = xf.data_ptr<float>();
  const float* gp = gf.data_ptr<float>();
  float* gip = gi.data_ptr<float>();
  const cpu::LearnedGrid grid = a.grid(params.steps, mode);
  at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
    for (int64_t k = first; k < last; ++k) {
      const int64_t b = k * chunk;
      const int64_t e = std::min(n, b + chunk);
      cpu::learned_backward(xp, gp, gip, b, e, layout, grid, offset_in_sum, partial_s.data() + k * channels,
                            partial_z.data() + k * channels);
    }
  });
  at::Tensor sum_s = at::zeros({channels}, at::kDouble);
  at::Tensor sum_z = at::zeros({channels}, at::kDouble);
  double* s = sum_s.data_ptr<double>();
  double* z = sum_z.data_ptr<double>();
  for (int64_t k = 0; k < chunks; ++k) {
    for (int64_t c = 0; c < channels; ++c) {
      s[c] += partial_s[static_cast<size_t>(k * channels + c)];
      z[c] += partial_z[static_cast<size_t>(k * channels + c)];
    }
  }
  return {detail::to_input_dtype(gi, grad), sum_s, sum_z};
}

// ---- prepared fake quant (op fusion) -----------------------------------------

struct PreparedFakeQuant::State {
  cpu::ChannelLayout layout;
  std::optional<StaticArrays> static_arrays;
  std::optional<LearnedArrays> learned_arrays;
  cpu::LearnedGrid learned;
  int64_t numel = 0;
};

namespace {

cpu::ChannelLayout layout_of_shape(at::IntArrayRef shape, std::optional<int64_t> axis, int64_t count,
                                   std::string_view what) {
  // channel_layout only reads sizes: a meta tensor of the shape costs nothing.
  return detail::channel_layout(at::empty(shape, at::TensorOptions().device(at::kMeta)), axis, count, what);
}

thread_local bool fusion_on = true;
thread_local int64_t fused_count = 0;

}  // namespace

PreparedFakeQuant PreparedFakeQuant::static_grid(at::IntArrayRef shape, const std::vector<Encoding>& encodings,
                                                 std::optional<int64_t> axis) {
  constexpr std::string_view what = "fake_quantize_static (fused)";
  auto state = std::make_shared<State>();
  state->layout = layout_of_shape(shape, axis, static_cast<int64_t>(encodings.size()), what);
  state->static_arrays = static_arrays(encodings, what);
  state->numel = c10::multiply_integers(shape);
  ++fused_count;
  return PreparedFakeQuant(std::move(state));
}

PreparedFakeQuant PreparedFakeQuant::learned_grid(at::IntArrayRef shape, const LearnedGridParams& params,
                                                  std::optional<int64_t> axis, ScaleMode mode) {
  constexpr std::string_view what = "fake_quantize_learned (fused)";
  auto state = std::make_shared<State>();
  const at::Tensor probe = at::empty({0});  // a CPU tensor: the grid must be on the CPU
  state->learned_arrays = learned_arrays(probe, params, what);
  state->layout = layout_of_shape(shape, axis, state->learned_arrays->delta.numel(), what);
  state->learned = state->learned_arrays->grid(params.steps, mode);
  state->numel = c10::multiply_integers(shape);
  ++fused_count;
  return PreparedFakeQuant(std::move(state));
}

void PreparedFakeQuant::apply(float* data, int64_t begin, int64_t end) const {
  const State& s = *state_;
  if (s.static_arrays) {
    cpu::static_forward(data, data, begin, end, s.layout, s.static_arrays->grid());
  } else {
    cpu::learned_forward(data, data, begin, end, s.layout, s.learned);
  }
}

void PreparedFakeQuant::apply_all(at::Tensor& tensor) const {
  QSIM_CHECK(tensor.scalar_type() == at::kFloat && tensor.is_contiguous() && tensor.device().is_cpu() &&
                 tensor.numel() == state_->numel,
             ValueError, "fused fake quant: expected a contiguous float32 CPU tensor of {} elements", state_->numel);
  float* data = tensor.data_ptr<float>();
  detail::parallel_chunks(tensor.numel(), [&](int64_t b, int64_t e) { apply(data, b, e); });
}

bool fusion_enabled() { return fusion_on; }
int64_t fused_quantizer_count() { return fused_count; }

FusionGuard::FusionGuard(bool enabled) : previous_(fusion_on) { fusion_on = enabled; }
FusionGuard::~FusionGuard() { fusion_on = previous_; }

}  // namespace qsim::quant
