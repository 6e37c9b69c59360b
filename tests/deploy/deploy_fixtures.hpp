#pragma once

// Fixtures for the deploy tests: golden tiny BERTs under a simulation, their batch
// as ONNX inputs, and the logits of either side in one tensor.

#include <map>
#include <memory>
#include <string>

#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include "qsim/deploy/onnx_export.hpp"
#include "qsim/deploy/onnx_runtime.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "sim/tiny_bert.hpp"
#include "support/run_command.hpp"

namespace qsim::test {

struct Simulated {
  models::bert::BertForTask model{nullptr};
  std::unique_ptr<sim::QuantSim> sim;
  Batch batch;
};

inline Batch batch_for(const std::string& profile, const models::bert::AttentionMask& mask) {
  return load_batch(profile, mask.mode == models::bert::MaskMode::zoo ? "batch_mask_zoo" : "batch_mask_hf");
}

/// A golden tiny model calibrated on its batch under the AIMET default config.
inline Simulated simulate(const std::string& profile, const std::string& head, const models::bert::AttentionMask& mask,
                          const sim::SimOptions& options = {}) {
  Simulated s{load_tiny(profile, head, mask), nullptr, batch_for(profile, mask)};
  s.sim = std::make_unique<sim::QuantSim>(s.model, sim::QuantSimConfig::aimet_default(), options);
  s.sim->compute_encodings([&](torch::nn::Module&) {
    s.model(s.batch.input_ids, s.batch.token_type_ids, s.batch.attention_mask);
  });
  s.model->eval();
  return s;
}

inline std::map<std::string, at::Tensor> onnx_inputs(const Batch& b) {
  return {{"input_ids", b.input_ids}, {"attention_mask", b.attention_mask}, {"token_type_ids", b.token_type_ids}};
}

/// Classification: logits [B, labels]; QA: start and end logits stacked [2, B, L].
inline at::Tensor qsim_logits(models::bert::BertForTask& model, const Batch& b) {
  torch::NoGradGuard no_grad;
  const auto out = model(b.input_ids, b.token_type_ids, b.attention_mask);
  return out.logits.defined() ? out.logits : torch::stack({out.start_logits, out.end_logits});
}

inline at::Tensor ort_logits(const deploy::OrtResult& r) {
  if (r.outputs.count("logits") != 0) return r.outputs.at("logits");
  return torch::stack({r.outputs.at("start_logits"), r.outputs.at("end_logits")});
}

inline onnx::ModelProto read_model(const std::string& path) {
  onnx::ModelProto m;
  const std::string bytes = read_text_file(path);
  if (!m.ParseFromString(bytes)) throw std::runtime_error("cannot parse " + path);
  return m;
}

}  // namespace qsim::test
