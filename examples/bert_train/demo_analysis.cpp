#include "demo_analysis.hpp"

#include <fmt/format.h>

namespace qsim::examples {

DemoAnalysis run_demo_analysis(const AnalysisFlags& flags, const models::bert::BertForTask& fp32,
                               const train::TaskDataset& train_data, const VariantRun& run, const DemoVariant& low,
                               const std::string& dir) {
  models::bert::BertForTask model = copy_of(fp32, run.device);
  sim::QuantSim quantsim(model, sim::QuantSimConfig::aimet_default(), variant_options(low));
  const AnalysisTarget target{quantsim, model, train_data, run.calibration_batches, run.batch_size, run.device, run.score};
  const std::string title = fmt::format("bert_demo: {} PTQ{}", low.name, flags.amp() ? ", mixed precision" : "");
  AnalysisOutcome outcome = run_analysis(flags, target, dir, title, {{"sensitivity_setting", low.name}});
  DemoAnalysis out{std::nullopt, std::nullopt, "", outcome.summary, outcome.notes};
  if (outcome.amp) {
    // The sim holds the chosen configuration, calibrated: its row.
    const ptq::AmpResult& amp = *outcome.amp;
    out.amp_score = run.score(model);
    if (run.fidelity) out.amp_fidelity = run.fidelity(model);
    std::string candidates;
    for (const ptq::Candidate& c : amp.candidates) candidates += (candidates.empty() ? "" : ", ") + c.label();
    out.amp_label = fmt::format("AMP PTQ ({}; drop <= {}: {:.3f}x the BitOps of {})", candidates, amp.allowed_drop,
                                amp.points[amp.chosen].relative_bitops, amp.candidates.front().label());
  }
  return out;
}

}  // namespace qsim::examples
