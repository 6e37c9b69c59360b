// End to end: --analyze and --amp_candidates on bert_eval and bert_demo. The report
// lands in <output_dir>/analysis (JSON, Markdown, HTML with its charts), results.json
// summarizes it, the mixed-precision choice is what bert_eval then evaluates and
// --mixed_precision applies it again to the same score, and flag mistakes are
// one-line errors.
#include <filesystem>
#include <functional>
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "tiny_task_files.hpp"

namespace qsim::test {
namespace {

class AnalysisToolsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new ScratchDir("analysis_e2e");
    write_glue(root_->path() / "data" / "glue", 12);
    write_checkpoint(root_->path() / "seqcls2", "BertForSequenceClassification", 2, 1);
    fs::create_directories(root_->path() / "data" / "vocab");
    fs::copy_file(root_->path() / "seqcls2" / "vocab.txt", root_->path() / "data" / "vocab" / "bert-base-uncased-vocab.txt");
  }
  static void TearDownTestSuite() { delete root_; }

  static CommandResult eval(const fs::path& out, const std::string& extra) {
    return run_command(fmt::format(
        "'{}' --model_config bert_w8a8_sst2 --model_dir '{}' --data_dir '{}' --output_dir '{}' "
        "--per_device_eval_batch_size 4 --calibrate 2 --threads 1 {}",
        QSIM_BERT_EVAL_BIN, (root_->path() / "seqcls2").string(), (root_->path() / "data").string(), out.string(),
        extra));
  }
  static nlohmann::json json_of(const fs::path& path) { return nlohmann::json::parse(read(path)); }

  static ScratchDir* root_;
};
ScratchDir* AnalysisToolsTest::root_ = nullptr;

TEST_F(AnalysisToolsTest, BertEvalWritesTheReportAndEvaluatesTheMixedPrecisionItChose) {
  const fs::path out = root_->path() / "eval";
  const fs::path saved = root_->path() / "saved";
  const CommandResult r = eval(out, fmt::format("--analyze --analyze_samples 8 --amp_candidates 8/8,4/8 "
                                                "--amp_allowed_drop 100 --save_quantized_model_dir '{}'",
                                                saved.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* file : {"analysis.json", "analysis.md", "report.html", "mixed_precision.json", "amp_scores.json",
                           "charts/pareto.png", "charts/block_sqnr.svg"}) {
    EXPECT_TRUE(fs::exists(out / "analysis" / file)) << file;
  }
  const nlohmann::json results = json_of(out / "results.json");
  const nlohmann::json& amp = results.at("analysis").at("mixed_precision");
  const nlohmann::json& chosen = amp.at("points").at(amp.at("chosen").get<std::size_t>());
  // A drop of 100 points allows everything: the cheapest point, every group at A4/W8.
  EXPECT_EQ(amp.at("chosen").get<std::size_t>() + 1, amp.at("points").size());
  EXPECT_LT(chosen.at("relative_bitops").get<double>(), 0.5);
  EXPECT_TRUE(results.at("analysis").at("sensitivity").at("blocks").is_array());
  // The W8A8 row is the chosen configuration (calibrated again: the same score).
  const double w8a8 = results.at("headline").at("sst2").at("w8a8").get<double>();
  EXPECT_EQ(w8a8, chosen.at("score").get<double>());
  EXPECT_NE(read(out / "results.md").find("+AMP (qsim)"), std::string::npos);
  // The exported encodings carry the chosen bitwidths: 4-bit activations, 8-bit weights.
  const nlohmann::json encodings = json_of(saved / "quantsim_encodings.json");
  // Bitwidths of every encoding object under `node`, however the export nests them.
  std::map<int, int> activation_bits, param_bits;
  std::function<void(const nlohmann::json&, std::map<int, int>&)> count = [&](const nlohmann::json& node,
                                                                               std::map<int, int>& bits) {
    if (node.is_object() && node.contains("bitwidth")) {
      ++bits[node.at("bitwidth").get<int>()];
      return;
    }
    if (node.is_structured()) {
      for (const auto& child : node) count(child, bits);
    }
  };
  count(encodings.at("activation_encodings"), activation_bits);
  count(encodings.at("param_encodings"), param_bits);
  // As many 4-bit activations as the chosen A4/W8 groups hold (groups whose tensor no
  // MAC reads cannot lower the BitOps and stay at A8/W8).
  int chosen_four_bit = 0;
  for (std::size_t g = 0; g < amp.at("groups").size(); ++g) {
    if (amp.at("chosen_config").at(g).at("candidate") != "A4/W8") continue;
    for (const std::string q : amp.at("groups").at(g).at("quantizers")) {
      chosen_four_bit += q.find("output_quantizer") != std::string::npos || q.find("input_quantizers") != std::string::npos;
    }
  }
  EXPECT_GT(chosen_four_bit, 0);
  EXPECT_EQ(activation_bits[4], chosen_four_bit);
  EXPECT_GT(activation_bits[8], 0);
  EXPECT_EQ(param_bits.size(), 1u);
  EXPECT_GT(param_bits[8], 0);

  // --mixed_precision takes the choice back.
  const fs::path again = root_->path() / "again";
  const CommandResult r2 =
      eval(again, fmt::format("--mixed_precision '{}'", (out / "analysis" / "mixed_precision.json").string()));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(json_of(again / "results.json").at("headline").at("sst2").at("w8a8").get<double>(), w8a8);
  EXPECT_NE(read(again / "results.md").find("W8A8 +MP (qsim)"), std::string::npos);
}

TEST_F(AnalysisToolsTest, FlagMistakesAreOneLineErrors) {
  const CommandResult zero = eval(root_->path() / "bad1", "--amp_candidates 0/8");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("activation bits"), std::string::npos) << zero.err;
  const CommandResult empty = eval(root_->path() / "bad2", "--amp_candidates ,");
  EXPECT_EQ(empty.exit_code, 2);
  const CommandResult drop = eval(root_->path() / "bad3", "--amp_candidates 8/8,4/8 --amp_allowed_drop -1");
  EXPECT_EQ(drop.exit_code, 2);
  EXPECT_NE(drop.err.find("allowed_drop"), std::string::npos) << drop.err;
  const CommandResult file = eval(root_->path() / "bad4", "--mixed_precision /nonexistent/mp.json");
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_NE(file.err.find("/nonexistent/mp.json"), std::string::npos) << file.err;
}

TEST_F(AnalysisToolsTest, DemoAnalysesTheLowerSettingAndAddsTheMixedPrecisionRow) {
  const fs::path out = root_->path() / "demo";
  const CommandResult r = run_command(fmt::format(
      "'{}' --task sst2 --data_dir '{}' --output_dir '{}' --layers 1 --hidden 16 --heads 2 --max_seq_length 16 "
      "--batch_size 4 --epochs 1 --calibrate 1 --qat_steps 2 --threads 1 --analyze --analyze_samples 8 "
      "--amp_candidates 8/8,4/8",
      QSIM_BERT_DEMO_BIN, (root_->path() / "data").string(), out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json analysis = json_of(out / "analysis" / "analysis.json");
  EXPECT_EQ(analysis.at("settings").at("sensitivity_setting"), "W8A4");
  EXPECT_TRUE(json_of(out / "results.json").at("analysis").contains("mixed_precision"));
  EXPECT_NE(read(out / "results.md").find("| AMP PTQ (A8/W8, A4/W8; drop <= 1:"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "analysis" / "report.html"));
}

}  // namespace
}  // namespace qsim::test
