#include "demo_variants.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/models/bert/quantizer_patterns.hpp"
#include "qsim/ptq/quantizer_stats.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/train/predict.hpp"
#include "qsim/train/trainer.hpp"

namespace qsim::examples {
namespace {

double mean_of(const std::vector<double>& values, std::size_t first, std::size_t count) {
  const std::size_t end = std::min(values.size(), first + count);
  if (first >= end) return 0.0;
  return std::accumulate(values.begin() + static_cast<std::ptrdiff_t>(first),
                         values.begin() + static_cast<std::ptrdiff_t>(end), 0.0) /
         static_cast<double>(end - first);
}

}  // namespace

models::bert::BertForTask copy_of(const models::bert::BertForTask& model, torch::Device device) {
  auto copy = std::dynamic_pointer_cast<models::bert::BertForTaskImpl>(model->clone(device));
  return models::bert::BertForTask(copy);
}

nlohmann::json ffn_residual_ranges(const models::bert::BertForTask& fp32, const train::TaskDataset& train_data,
                                   const VariantRun& run) {
  models::bert::BertForTask model = copy_of(fp32, run.device);
  sim::QuantSim quantsim(model, sim::QuantSimConfig::aimet_default(), sim::SimOptions());
  const auto calibrate = [&](torch::nn::Module&) {
    train::run_batches(model, train_data, run.batch_size, run.calibration_batches, run.device);
  };
  quantsim.compute_encodings(calibrate);
  nlohmann::json out = nlohmann::json::object();
  for (const ptq::QuantizerStats& s : ptq::quantizer_stats(quantsim, calibrate)) {
    if (s.channel_min.empty()) continue;  // not an FFN residual activation
    std::vector<double> range;
    for (std::size_t c = 0; c < s.channel_min.size(); ++c) range.push_back(s.channel_max[c] - s.channel_min[c]);
    const double median = torch::tensor(range, torch::kDouble).median().item<double>();
    const double widest = *std::max_element(range.begin(), range.end());
    out[s.name] = {{"channels", range.size()},
                   {"median_range", median},
                   {"max_range", widest},
                   {"max_over_median", widest / median},
                   {"outlier_channels", s.outlier_channels()}};
  }
  return out;
}

nlohmann::json VariantResult::to_json() const {
  nlohmann::json out = {{"ptq", ptq}, {"seconds", seconds}};
  if (!adaround.is_null()) out["adaround"] = adaround;
  if (ptq_fidelity) out["ptq_fidelity"] = ptq_fidelity->to_json();
  if (qat_fidelity) out["qat_fidelity"] = qat_fidelity->to_json();
  if (qat) {
    out["qat"] = *qat;
    out["qat_loss_first_10_steps"] = first_qat_loss;
    out["qat_loss_last_10_steps"] = last_qat_loss;
  }
  return out;
}

sim::SimOptions variant_options(const DemoVariant& variant) {
  sim::SimOptions options = sim::SimOptions()
                                .scheme(variant.scheme)
                                .param_bitwidth(variant.weight_bw)
                                .output_bitwidth(variant.act_bw);
  if (variant.mixed_precision_bits > 0) {
    options.bitwidth_overrides({{models::bert::kFfnResidualQuantizers, variant.mixed_precision_bits}});
  }
  if (variant.peg_groups > 0) {
    options.embedding_groups({{models::bert::kFfnResidualQuantizers, variant.peg_groups, variant.peg_permute}});
  }
  return options;
}

VariantResult run_variant(const models::bert::BertForTask& fp32, const DemoVariant& variant,
                          const train::TaskDataset& train_data, const VariantRun& run) {
  const auto start = std::chrono::steady_clock::now();
  models::bert::BertForTask model = copy_of(fp32, run.device);
  sim::QuantSim quantsim(model, sim::QuantSimConfig::aimet_default(), variant_options(variant));
  VariantResult result;
  if (variant.adaround) {
    QSIM_CHECK(run.adaround.has_value(), ConfigError, "demo: variant {} asks for AdaRound without its options",
               variant.name);
    result.adaround = ptq::adaround(quantsim, model, train_data, *run.adaround).to_json();
  }
  quantsim.compute_encodings([&](torch::nn::Module&) {
    train::run_batches(model, train_data, run.batch_size, run.calibration_batches, run.device);
  });
  if (variant.float_activations) {
    for (const sim::QuantizerSlot& s : quantsim.quantizers()) {
      if (s.kind != sim::SlotKind::param && s.active) quantsim.set_enabled(s.name, false);
    }
  }
  quantsim.set_mode(sim::Mode::quantized);
  result.ptq = run.score(model);
  logger()->info("demo: {} PTQ {:.2f}", variant.name, result.ptq);
  if (run.fidelity) result.ptq_fidelity = run.fidelity(model);
  if (run.on_scored) run.on_scored(variant, "PTQ", quantsim, model);
  if (variant.qat) {
    quantsim.set_mode(sim::Mode::range_learning);
    train::Trainer trainer(model, run.qat);
    const train::TrainResult trained = trainer.train(train_data);
    result.first_qat_loss = mean_of(trained.losses, 0, 10);
    result.last_qat_loss = mean_of(trained.losses, trained.losses.size() - std::min<std::size_t>(10, trained.losses.size()), 10);
    quantsim.set_mode(sim::Mode::quantized);
    result.qat = run.score(model);
    logger()->info("demo: {} QAT {:.2f} (loss {:.4f} → {:.4f})", variant.name, *result.qat, result.first_qat_loss,
                   result.last_qat_loss);
    if (run.fidelity) result.qat_fidelity = run.fidelity(model);
    if (run.on_scored) run.on_scored(variant, "QAT", quantsim, model);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace qsim::examples
