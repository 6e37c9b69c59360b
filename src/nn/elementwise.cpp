#include "qsim/nn/elementwise.hpp"

#include <functional>

#include "nn/chunked_ops.hpp"
#include "qsim/quant/recipe.hpp"
#include "qsim/quant/tensor_ownership.hpp"

namespace qsim::nn::detail {

bool fits_in_place(const torch::Tensor& a, const torch::Tensor& b) {
  return quant::can_overwrite(a) && quant::result_fits(a, b);
}

std::optional<ChunkedResult> chunked_in_place(torch::Tensor& a, const torch::Tensor& b, BinaryKind kind,
                                              quant::QuantizerNodeImpl& output) {
  if (!fits_in_place(a, b) || !chunkable(a) || b.device() != a.device()) return std::nullopt;
  const auto fused = output.prepare_fused(a.sizes());
  const quant::PreparedFakeQuant* epilogue = fused ? &*fused : nullptr;
  std::function<void(at::Tensor&, const at::Tensor&)> op;
  switch (kind) {
    case BinaryKind::add: op = [](at::Tensor& x, const at::Tensor& y) { x.add_(y); }; break;
    case BinaryKind::sub: op = [](at::Tensor& x, const at::Tensor& y) { x.sub_(y); }; break;
    case BinaryKind::mul: op = [](at::Tensor& x, const at::Tensor& y) { x.mul_(y); }; break;
    case BinaryKind::div: op = [](at::Tensor& x, const at::Tensor& y) { x.div_(y); }; break;
  }
  // An operand of another type (the zoo's int64 attention mask) is cast once here,
  // as ATen's promotion would cast it, not once per chunk inside each chunk's op.
  const torch::Tensor rhs = b.scalar_type() == a.scalar_type() ? b : b.to(a.scalar_type());
  return ChunkedResult{chunked_binary_(std::move(a), rhs, epilogue, op), epilogue != nullptr};
}

ChunkedResult divide_into(torch::Tensor x, double divisor, quant::QuantizerNodeImpl& next) {
  if (!quant::can_overwrite(x) || !chunkable(x)) return {quant::divide_keeping_recipe(x, divisor), false};
  const auto fused = next.prepare_fused(x.sizes());
  return {chunked_div_(std::move(x), divisor, fused ? &*fused : nullptr), fused.has_value()};
}

std::optional<std::vector<int64_t>> fusable_matmul_shape(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.dim() < 2 || b.dim() < 2 || b.dim() > a.dim() || !takes_thread_invariant_path(a, b)) return std::nullopt;
  std::vector<int64_t> shape = a.sizes().vec();
  shape.back() = b.size(-1);
  return shape;
}

}  // namespace qsim::nn::detail
