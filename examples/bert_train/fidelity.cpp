#include "fidelity.hpp"

#include "detail/check.hpp"

namespace qsim::examples {

nlohmann::json Fidelity::to_json() const {
  nlohmann::json out = {{"logit_mse", logit_mse}};
  if (agreement) out["agreement"] = *agreement;
  return out;
}

void FidelityMeter::set_reference(models::bert::BertForTask& fp32) {
  reference_ = train::predict(fp32, dev_, options_).logits.to(at::kCPU);
}

Fidelity FidelityMeter::measure(models::bert::BertForTask& model) const {
  QSIM_CHECK(reference_.defined(), ValueError, "fidelity: no FP32 reference yet");
  const at::Tensor logits = train::predict(model, dev_, options_).logits.to(at::kCPU);
  Fidelity f;
  f.logit_mse = (logits - reference_).pow(2).mean().item<double>();
  if (logits.size(1) > 1) {
    f.agreement = 100.0 * (logits.argmax(1) == reference_.argmax(1)).to(at::kDouble).mean().item<double>();
  }
  return f;
}

}  // namespace qsim::examples
