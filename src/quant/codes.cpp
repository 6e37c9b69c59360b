#include "qsim/quant/codes.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "detail/check.hpp"
#include "kernels/cpu/quantize_u8.hpp"

namespace qsim::quant {
namespace {

constexpr int64_t kGrain = int64_t{1} << 14;

}  // namespace

bool is_code_tensor(const at::Tensor& t) {
  return t.defined() && t.is_quantized() && t.scalar_type() == at::kQUInt8 && t.device().is_cpu() &&
         t.qscheme() == at::kPerTensorAffine;
}

CodeGrid grid_of(const at::Tensor& codes) {
  QSIM_CHECK(is_code_tensor(codes), ValueError, "codes: expected a CPU quint8 per-tensor tensor, got {}",
             codes.toString());
  return {static_cast<float>(codes.q_scale()), static_cast<int32_t>(codes.q_zero_point())};
}

at::Tensor as_code_tensor(const at::Tensor& codes, CodeGrid grid) {
  QSIM_CHECK(codes.scalar_type() == at::kByte && codes.is_contiguous(), ValueError,
             "codes: expected contiguous uint8 codes, got {}", codes.toString());
  QSIM_CHECK(grid.delta > 0.0f && grid.zero_point >= 0 && grid.zero_point <= 255, ValueError,
             "codes: grid Δ={} zero point={} is not a quint8 grid", grid.delta, grid.zero_point);
  return at::_make_per_tensor_quantized_tensor(codes, grid.delta, grid.zero_point);
}

at::Tensor codes_to_float(const at::Tensor& codes) {
  const CodeGrid grid = grid_of(codes);
  const at::Tensor q = codes.contiguous();  // read in place: int_repr() would copy
  at::Tensor y = at::empty(codes.sizes(), at::kFloat);
  const auto* in = static_cast<const uint8_t*>(q.data_ptr());
  float* out = y.data_ptr<float>();
  at::parallel_for(0, q.numel(), kGrain, [&](int64_t begin, int64_t end) {
    kernels::cpu::dequantize_u8(in + begin, out + begin, end - begin, grid.delta, grid.zero_point);
  });
  return y;
}

at::Tensor float_to_codes(const at::Tensor& x, CodeGrid grid) {
  QSIM_CHECK(x.scalar_type() == at::kFloat && x.device().is_cpu(), ValueError,
             "codes: expected a CPU float tensor, got {}", x.toString());
  const at::Tensor in = x.contiguous();
  at::Tensor q = at::empty(in.sizes(), at::kByte);
  const float* src = in.data_ptr<float>();
  uint8_t* dst = q.data_ptr<uint8_t>();
  at::parallel_for(0, in.numel(), kGrain, [&](int64_t begin, int64_t end) {
    kernels::cpu::quantize_u8(src + begin, dst + begin, end - begin, grid.delta, grid.zero_point);
  });
  return as_code_tensor(q, grid);
}

}  // namespace qsim::quant
