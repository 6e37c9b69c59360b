#include "models/layer_checkpoint.hpp"

#include <cstdint>
#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>

#include "qsim/nn/thread_invariant_matmul.hpp"

namespace qsim::models::bert::detail {
namespace {

// The CPU generator's state, so the recomputation draws the same dropout masks.
at::Tensor rng_state() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_rng_state(const at::Tensor& state) {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

class LayerCheckpoint : public torch::autograd::Function<LayerCheckpoint> {
 public:
  // The layer travels as its address: the model owns it and outlives the graph, and
  // saved_data holds IValues only.
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& extended_mask, int64_t layer_address) {
    ctx->saved_data["layer"] = layer_address;
    ctx->saved_data["rng"] = rng_state();
    ctx->save_for_backward({hidden, extended_mask});
    const nn::AtenProductsGuard same_products_as_the_recomputation;
    return layer_at(layer_address).forward(hidden, extended_mask, nullptr);  // autograd is off in here
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor hidden = saved[0].detach().requires_grad_(saved[0].requires_grad());
    const at::Tensor resume = rng_state();
    set_rng_state(ctx->saved_data["rng"].toTensor());
    torch::Tensor output;
    {
      torch::AutoGradMode enable(true);
      output = layer_at(ctx->saved_data["layer"].toInt()).forward(hidden, saved[1], nullptr);
    }
    set_rng_state(resume);
    // Parameter (and quantizer range) gradients accumulate into their .grad here.
    torch::autograd::backward({output}, {grads[0]});
    return {hidden.requires_grad() ? hidden.grad() : torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }

 private:
  static BertLayerImpl& layer_at(int64_t address) {
    return *reinterpret_cast<BertLayerImpl*>(static_cast<std::uintptr_t>(address));
  }
};

}  // namespace

torch::Tensor checkpointed_layer(BertLayerImpl& layer, const torch::Tensor& hidden, const torch::Tensor& extended_mask) {
  const auto address = static_cast<int64_t>(reinterpret_cast<std::uintptr_t>(&layer));
  return LayerCheckpoint::apply(hidden, extended_mask, address);
}

}  // namespace qsim::models::bert::detail
