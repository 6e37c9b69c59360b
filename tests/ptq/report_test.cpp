// The analysis report (qsim/ptq/report.hpp): written for a golden tiny BERT with
// every part present, it holds valid JSON and Markdown, and report.html opens in a
// real headless browser (Debian's chromium) with every chart drawn and no
// JavaScript or console error. Chromium and gnuplot are installed by
// scripts/setup.sh; the test fails, naming them, where they are missing.
#include <cstdlib>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/ptq/mixed_precision.hpp"
#include "qsim/ptq/output_sqnr.hpp"
#include "qsim/ptq/report.hpp"
#include "sim/tiny_bert.hpp"
#include "tiny_data.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"

namespace qsim::ptq {
namespace {

std::string chromium() {
  const char* env = std::getenv("QSIM_CHROMIUM");
  return env != nullptr && *env != '\0' ? env : "chromium";
}

// The value of body's `attribute` in a DOM dump ("" if absent).
std::string body_attribute(const std::string& dom, const std::string& attribute) {
  std::smatch m;
  const std::regex re("<body[^>]*\\s" + attribute + "=\"([^\"]*)\"");
  return std::regex_search(dom, m, re) ? m[1].str() : "";
}

AnalysisReport tiny_report() {
  models::bert::BertForTask model = test::load_tiny("std002", "seqcls2");
  const test::Batch batch = test::load_batch("std002");
  const train::TaskDataset data = test::dataset_of(batch);
  OutputSqnr sqnr(data, 100, 2);
  sqnr.set_reference(model);
  const auto calibrate = [&](torch::nn::Module&) { model(batch.input_ids, batch.token_type_ids, batch.attention_mask); };
  const auto score = [&](torch::nn::Module&) { return std::min(sqnr(model), 60.0); };
  sim::QuantSim sim(model, sim::QuantSimConfig::aimet_default(),
                    sim::SimOptions().scheme(sim::QuantScheme::tf).output_bitwidth(4));
  AnalysisReport report;
  report.title = "tiny BERT, W8A4";
  report.settings = {{"model", "bert_tiny_std002"}};
  report.sensitivity = analyze_sensitivity(sim, {calibrate, score}, SensitivityOptions().single_activations(true));
  report.block_errors = block_errors(sim, model, data, BlockErrorOptions().samples(100).batch_size(2));
  report.quantizers = quantizer_stats(sim, calibrate);
  sim::QuantSim amp_sim(model, sim::QuantSimConfig::aimet_default(), sim::SimOptions().scheme(sim::QuantScheme::tf));
  const AmpResult amp = choose_mixed_precision(amp_sim, {calibrate, score, score},
                                               AmpOptions().candidates(parse_candidates("8/8,4/8")).allowed_drop(6.0));
  report.mixed_precision = amp.to_json(amp_sim);
  return report;
}

TEST(AnalysisReportTest, OpensInAHeadlessBrowserWithEveryChartDrawnAndNoErrors) {
  const test::ScratchDir dir("report");
  const AnalysisReport report = tiny_report();
  write_report(dir.path().string(), report);

  const nlohmann::json json = io::read_json_file(dir.file("analysis.json"));
  EXPECT_EQ(json.at("title"), "tiny BERT, W8A4");
  EXPECT_EQ(json.at("sensitivity").at("blocks").size(), report.sensitivity->blocks.size());
  EXPECT_FALSE(json.at("mixed_precision").at("points").empty());
  const std::string md = test::read_text_file(dir.file("analysis.md"));
  EXPECT_NE(md.find("Most sensitive groups"), std::string::npos);
  EXPECT_NE(md.find("Mixed precision over"), std::string::npos);
  EXPECT_TRUE(std::ifstream(dir.file("charts/pareto.png")).good());

  const test::CommandResult browser = test::run_command(
      "'" + chromium() + "' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --enable-logging=stderr --v=0 "
      "--dump-dom 'file://" + dir.file("report.html") + "'");
  ASSERT_EQ(browser.exit_code, 0) << "is chromium installed (scripts/setup.sh)? " << browser.err;
  const std::string expected = body_attribute(browser.out, "data-charts-expected");
  ASSERT_FALSE(expected.empty()) << "the page's check did not run:\n" << browser.out.substr(0, 2000);
  // Sweeps ×2, block SQNR and MSE, Pareto and phase 1, per-channel ranges, one histogram per quantizer.
  std::size_t channels = 0;
  for (const auto& q : report.quantizers) channels += q.channel_min.empty() ? 0 : 1;
  EXPECT_EQ(std::stoul(expected), 6 + channels + report.quantizers.size());
  EXPECT_EQ(body_attribute(browser.out, "data-charts-drawn"), expected);
  EXPECT_EQ(body_attribute(browser.out, "data-errors"), "0") << body_attribute(browser.out, "data-error-text");
  EXPECT_EQ(browser.err.find(":CONSOLE("), std::string::npos) << browser.err;
}

TEST(AnalysisReportTest, MissingGnuplotIsAnIoErrorAfterTheJsonAndMarkdown) {
  const test::ScratchDir dir("report_nognuplot");
  AnalysisReport report;
  report.block_errors = {{"a", "Gemm", 0.5, 3.0, 10}};
  ::setenv("QSIM_GNUPLOT", "/nonexistent/gnuplot", 1);
  EXPECT_THROW(write_report(dir.path().string(), report), IoError);
  ::unsetenv("QSIM_GNUPLOT");
  EXPECT_TRUE(std::ifstream(dir.file("analysis.json")).good());
  EXPECT_TRUE(std::ifstream(dir.file("analysis.md")).good());
  EXPECT_FALSE(std::ifstream(dir.file("report.html")).good());
}

}  // namespace
}  // namespace qsim::ptq
