// fake_quantize_static as a LibTorch autograd function: the §2 forward and the
// straight-through backward g·[E.min ≤ y ≤ E.max] on the saved output y.
#include <torch/autograd.h>
#include <torch/types.h>

#include "qsim/quant/fake_quant.hpp"
#include "quant/kernel_dispatch.hpp"
#include "quant/static_ste.hpp"

namespace qsim::quant {
namespace {

class StaticGridFunction : public torch::autograd::Function<StaticGridFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const std::vector<Encoding>& encodings, std::optional<int64_t> axis) {
    const detail::UnpooledScope training;
    torch::Tensor y = detail::static_forward(x, encodings, axis);
    std::vector<double> min, max;
    for (const Encoding& e : encodings) {
      min.push_back(e.min);
      max.push_back(e.max);
    }
    ctx->saved_data["min"] = c10::List<double>(min);
    ctx->saved_data["max"] = c10::List<double>(max);
    ctx->saved_data["axis"] = axis ? c10::IValue(*axis) : c10::IValue();
    ctx->save_for_backward({y});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const detail::UnpooledScope training;
    const torch::Tensor y = ctx->get_saved_variables()[0];
    std::vector<float> min, max;
    for (double v : ctx->saved_data["min"].toDoubleList()) min.push_back(static_cast<float>(v));
    for (double v : ctx->saved_data["max"].toDoubleList()) max.push_back(static_cast<float>(v));
    const c10::IValue& axis_value = ctx->saved_data["axis"];
    const std::optional<int64_t> axis =
        axis_value.isNone() ? std::nullopt : std::optional<int64_t>(axis_value.toInt());
    return {detail::static_ste(y, grads[0], min, max, axis), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

at::Tensor fake_quantize_static(const at::Tensor& x, const std::vector<Encoding>& encodings,
                                std::optional<int64_t> axis) {
  if (at::GradMode::is_enabled() && x.requires_grad()) return StaticGridFunction::apply(x, encodings, axis);
  return detail::static_forward(x, encodings, axis);
}

at::Tensor fake_quantize_static(const at::Tensor& x, const Encoding& encoding) {
  return fake_quantize_static(x, std::vector<Encoding>{encoding}, std::nullopt);
}

}  // namespace qsim::quant
