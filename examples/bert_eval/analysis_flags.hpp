#pragma once

// The analysis flags bert_eval and bert_demo share (qsim/ptq/sensitivity.hpp,
// mixed_precision.hpp, report.hpp), and the run behind them:
//   --analyze                  sensitivity report: FP32 / weights-only / activations-only
//                              scores, enable-one and disable-one sweeps over blocks,
//                              per-block output SQNR, every encoding's histogram
//   --analyze_activations      the sweeps also over single activation quantizers
//   --analyze_samples N        rows for the block errors and the phase-1 SQNR (128)
//   --amp_candidates A/W,...   automatic mixed precision over these candidates (e.g. 8/8,4/8)
//   --amp_allowed_drop X       allowed drop below FP32, in the task metric's points (1)
// Everything goes to <output_dir>/analysis: analysis.json, analysis.md, report.html,
// charts/, and with mixed precision mixed_precision.json (--mixed_precision takes it
// back) and amp_scores.json (the cache a rerun resumes from).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/ptq/mixed_precision.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::examples {

struct AnalysisFlags {
  bool analyze = false;
  bool analyze_activations = false;
  int64_t analyze_samples = 128;
  std::string amp_candidates;
  double amp_allowed_drop = 1.0;

  void add_to(CLI::App& app);
  bool amp() const { return !amp_candidates.empty(); }
  bool any() const { return analyze || amp(); }
  /// ConfigError naming the flag for bad values.
  void validate() const;
  nlohmann::json to_json() const;
};

/// What the analysis runs on: a freshly built, uncalibrated simulation of `model`.
struct AnalysisTarget {
  sim::QuantSim& sim;
  models::bert::BertForTask& model;
  const train::TaskDataset& calibration;  ///< train rows (calibration batches, block errors, SQNR)
  int64_t calibrate_batches = 16;
  int64_t batch_size = 8;
  torch::Device device = torch::kCPU;
  /// The task metric on dev, in points (higher is better).
  std::function<double(models::bert::BertForTask&)> evaluate;
};

struct AnalysisOutcome {
  nlohmann::json summary;            ///< for results.json
  std::optional<ptq::AmpResult> amp;  ///< the sim is left in its chosen configuration
  std::string notes;                  ///< lines for results.md
};

/// Runs what the flags ask and writes the report to `dir`.
AnalysisOutcome run_analysis(const AnalysisFlags& flags, const AnalysisTarget& target, const std::string& dir,
                             const std::string& title, const nlohmann::json& settings);

}  // namespace qsim::examples
