#include "analysis_flags.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"
#include "qsim/ptq/output_sqnr.hpp"
#include "qsim/ptq/report.hpp"
#include "qsim/train/predict.hpp"

namespace qsim::examples {

void AnalysisFlags::add_to(CLI::App& app) {
  app.add_flag("--analyze", analyze,
               "sensitivity report (sweeps, block SQNR, encodings and histograms) in <output_dir>/analysis");
  app.add_flag("--analyze_activations", analyze_activations, "--analyze: also sweep single activation quantizers");
  app.add_option("--analyze_samples", analyze_samples, "rows for block errors and the mixed-precision phase-1 SQNR (128)");
  app.add_option("--amp_candidates", amp_candidates,
                 "automatic mixed precision over ACT/WEIGHT bit pairs, e.g. 8/8,4/8 (report in <output_dir>/analysis)");
  app.add_option("--amp_allowed_drop", amp_allowed_drop, "mixed precision: allowed drop below FP32 in metric points (1)");
}

void AnalysisFlags::validate() const {
  QSIM_CHECK(analyze_samples > 0, ConfigError, "--analyze_samples must be > 0, got {}", analyze_samples);
  QSIM_CHECK(!analyze_activations || analyze, ConfigError, "--analyze_activations needs --analyze");
  if (amp()) {
    ptq::AmpOptions().candidates(ptq::parse_candidates(amp_candidates)).allowed_drop(amp_allowed_drop).validate();
  }
}

nlohmann::json AnalysisFlags::to_json() const {
  return {{"analyze", analyze},
          {"analyze_activations", analyze_activations},
          {"analyze_samples", analyze_samples},
          {"amp_candidates", amp_candidates},
          {"amp_allowed_drop", amp_allowed_drop}};
}

AnalysisOutcome run_analysis(const AnalysisFlags& flags, const AnalysisTarget& t, const std::string& dir,
                             const std::string& title, const nlohmann::json& settings) {
  flags.validate();
  std::filesystem::create_directories(dir);
  const auto calibrate = [&](torch::nn::Module&) {
    train::run_batches(t.model, t.calibration, t.batch_size, t.calibrate_batches, t.device);
  };
  const auto evaluate = [&](torch::nn::Module&) { return t.evaluate(t.model); };
  const train::TaskDataset rows = t.calibration.head(flags.analyze_samples).to(t.device);
  ptq::AnalysisReport report;
  report.title = title;
  report.settings = settings;
  report.settings["flags"] = flags.to_json();
  AnalysisOutcome out;
  if (flags.analyze) {
    report.sensitivity = ptq::analyze_sensitivity(
        t.sim, {calibrate, evaluate}, ptq::SensitivityOptions().single_activations(flags.analyze_activations));
    report.block_errors = ptq::block_errors(
        t.sim, t.model, rows, ptq::BlockErrorOptions().samples(flags.analyze_samples).batch_size(t.batch_size));
    report.quantizers = ptq::quantizer_stats(t.sim, calibrate);
    const auto& s = *report.sensitivity;
    out.notes += fmt::format("Analysis: FP32 {:.2f}, quantized {:.2f}, weights only {:.2f}, activations only {:.2f}; "
                             "most sensitive (disable one): {} ({:+.2f}).\n",
                             s.fp32, s.quantized, s.weights_only, s.activations_only, s.most_sensitive(1).front().name,
                             s.most_sensitive(1).front().disabled - s.quantized);
  }
  if (flags.amp()) {
    t.sim.set_mode(sim::Mode::fp32);
    ptq::OutputSqnr sqnr(rows, flags.analyze_samples, t.batch_size);
    sqnr.set_reference(t.model);
    const auto cheap = [&](torch::nn::Module&) { return sqnr(t.model); };
    out.amp = ptq::choose_mixed_precision(t.sim, {calibrate, cheap, evaluate},
                                          ptq::AmpOptions()
                                              .candidates(ptq::parse_candidates(flags.amp_candidates))
                                              .allowed_drop(flags.amp_allowed_drop)
                                              .cache_file(dir + "/amp_scores.json"));
    report.mixed_precision = out.amp->to_json(t.sim);
    io::write_file_atomically(dir + "/mixed_precision.json", report.mixed_precision.dump(1));
    const ptq::AmpPoint& p = out.amp->points[out.amp->chosen];
    out.notes += fmt::format("Mixed precision ({}; drop <= {}): BitOps {:.3f} of {}, score {:.2f} against FP32 {:.2f}{} "
                             "({} evaluations, {:.0f} s; {}/mixed_precision.json).\n",
                             flags.amp_candidates, flags.amp_allowed_drop, p.relative_bitops,
                             out.amp->candidates.front().label(), p.score, out.amp->fp32,
                             out.amp->met ? "" : " (no configuration within the drop: baseline kept)",
                             out.amp->evaluations, out.amp->seconds, dir);
  }
  ptq::write_report(dir, report);
  out.summary = {{"dir", dir}, {"report", dir + "/report.html"}};
  if (report.sensitivity) out.summary["sensitivity"] = report.sensitivity->to_json();
  if (out.amp) out.summary["mixed_precision"] = report.mixed_precision;
  return out;
}

}  // namespace qsim::examples
