// End to end: --adaround on bert_eval and bert_demo. AdaRound runs before
// calibration, its per-layer losses land in results.json, the saved quantized
// checkpoint keeps the rounded weights with their frozen encodings (the weights are
// on their grid), and flag mistakes are one-line errors.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "qsim/quant/fake_quant.hpp"
#include "qsim/sim/quantized_checkpoint.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "tiny_task_files.hpp"

namespace qsim::test {
namespace {

class AdaroundToolsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new ScratchDir("adaround_e2e");
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
  static nlohmann::json results(const fs::path& out) { return nlohmann::json::parse(read(out / "results.json")); }

  static ScratchDir* root_;
};
ScratchDir* AdaroundToolsTest::root_ = nullptr;

TEST_F(AdaroundToolsTest, BertEvalRoundsBeforeCalibrationAndSavesTheRoundedWeights) {
  const fs::path out = root_->path() / "eval", saved = root_->path() / "saved";
  const CommandResult r = eval(out, fmt::format("--weight_bw 4 --adaround 2 --adaround_iterations 40 "
                                                "--save_quantized_model_dir '{}'",
                                                saved.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = results(out);
  const nlohmann::json& layers = j.at("adaround").at("layers");
  ASSERT_FALSE(layers.empty());
  for (const nlohmann::json& l : layers) {
    EXPECT_EQ(l.at("iterations"), 40);
    EXPECT_GT(l.at("rows").get<int64_t>(), 0);
    EXPECT_TRUE(l.at("nearest_loss").is_number() && l.at("adaround_loss").is_number());
  }
  EXPECT_EQ(j.at("settings").at("adaround").at("batches"), 2);
  EXPECT_NE(read(out / "results.md").find("AdaRound:"), std::string::npos);
  sim::QuantizedBert q = sim::load_quantized_bert(saved.string());
  for (const nlohmann::json& l : layers) {
    const std::string name = l.at("name");
    SCOPED_TRACE(name);
    const sim::QuantizerSlot& slot = q.sim.slot(name + ".weight_quantizer");
    EXPECT_TRUE(slot.frozen);
    const at::Tensor weight = q.model->named_parameters()[name + ".weight"];
    EXPECT_TRUE(at::equal(quant::fake_quantize_static(weight, slot.node->encodings()), weight)) << "on its grid";
  }
}

TEST_F(AdaroundToolsTest, FlagMistakesAreOneLineErrors) {
  const CommandResult reg = eval(root_->path() / "bad1", "--adaround 1 --adaround_reg -1");
  EXPECT_EQ(reg.exit_code, 2);
  EXPECT_NE(reg.err.find("reg_weight"), std::string::npos) << reg.err;
  const CommandResult beta = eval(root_->path() / "bad2", "--adaround 1 --adaround_beta_start 1 --adaround_beta_end 5");
  EXPECT_EQ(beta.exit_code, 2);
  EXPECT_NE(beta.err.find("beta range 1 -> 5"), std::string::npos) << beta.err;
  const CommandResult iterations = eval(root_->path() / "bad3", "--adaround 1 --adaround_iterations 0");
  EXPECT_EQ(iterations.exit_code, 2);
  EXPECT_NE(iterations.err.find("iterations"), std::string::npos) << iterations.err;
}

TEST_F(AdaroundToolsTest, DemoAddsTheAdaroundRows) {
  const fs::path out = root_->path() / "demo";
  const CommandResult r = run_command(fmt::format(
      "'{}' --task sst2 --data_dir '{}' --output_dir '{}' --layers 1 --hidden 16 --heads 2 --max_seq_length 16 "
      "--batch_size 4 --epochs 1 --calibrate 1 --qat_steps 2 --threads 1 --adaround 1 --adaround_iterations 20",
      QSIM_BERT_DEMO_BIN, (root_->path() / "data").string(), out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json variants = results(out).at("variants");
  for (const char* name : {"W4A8 AdaRound", "W4 (float activations) AdaRound"}) {
    EXPECT_FALSE(variants.at(name).at("adaround").at("layers").empty()) << name;
  }
  for (const char* name : {"W4A8 (static grid)", "W4 (float activations)"}) {
    EXPECT_TRUE(variants.at(name).at("ptq").is_number()) << name;
    EXPECT_FALSE(variants.at(name).contains("adaround")) << name;
  }
  EXPECT_TRUE(variants.at("W4A8").at("qat").is_number());
  EXPECT_NE(read(out / "results.md").find("W4A8 AdaRound PTQ (AdaRound, 20 steps per layer)"), std::string::npos);
}

}  // namespace
}  // namespace qsim::test
