#pragma once

// bert_demo --analyze / --amp_candidates: the analysis report of the trained model's
// lower setting (W8A4 by default: the sweeps name what breaks it) and, with mixed
// precision, the configuration it chooses as one more row of the demo table.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "analysis_flags.hpp"
#include "demo_variants.hpp"

namespace qsim::examples {

struct DemoAnalysis {
  std::optional<double> amp_score;  ///< the chosen configuration's dev metric
  std::optional<Fidelity> amp_fidelity;
  std::string amp_label;  ///< its row's name
  nlohmann::json summary;
  std::string notes;
};

DemoAnalysis run_demo_analysis(const AnalysisFlags& flags, const models::bert::BertForTask& fp32,
                               const train::TaskDataset& train_data, const VariantRun& run, const DemoVariant& low,
                               const std::string& dir);

}  // namespace qsim::examples
