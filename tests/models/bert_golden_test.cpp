// Parity with ../shared/golden/bert_tiny_*: every profile, model dir, weights file,
// input file and reference tensor, to the README's tolerances. Nothing about the
// fixtures' sizes is assumed: profiles, models and files are discovered, sizes come
// from config.json and the tensors.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/io/checkpoint.hpp"
#include "qsim/io/pytorch_bin.hpp"
#include "qsim/io/safetensors.hpp"
#include "qsim/models/bert/bert_checkpoint.hpp"
#include "support/paths.hpp"
#include "support/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace qsim;
using namespace qsim::models::bert;

struct GoldenCase {
  std::string profile;   // e.g. bert_tiny_sharp
  std::string model;     // e.g. seqcls2_legacy
  std::string weights;   // model.safetensors | pytorch_model.bin
  std::string name() const {
    std::string out = profile + "_" + model + "_" + weights;
    std::replace_if(out.begin(), out.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return out;
  }
};

std::vector<std::string> sorted_entries(const fs::path& dir, bool directories) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() == directories) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<GoldenCase> discover_cases() {
  std::vector<GoldenCase> cases;
  const fs::path root = test::golden_dir();
  for (const auto& profile : sorted_entries(root, true)) {
    if (profile.rfind("bert_tiny_", 0) != 0) continue;
    for (const auto& model : sorted_entries(root / profile / "models", true)) {
      for (const char* weights : {"model.safetensors", "pytorch_model.bin"}) {
        if (fs::exists(root / profile / "models" / model / weights)) cases.push_back({profile, model, weights});
      }
    }
  }
  return cases;
}

io::TensorList read_weights(const std::string& path) {
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".bin") == 0) return io::load_pytorch_bin(path);
  return io::load_safetensors(path).tensors;
}

// The fixture tensors for this model dir: "<kind>.<model>", where a *_legacy dir holds
// the weights of the dir named without the suffix.
std::string head_key(const std::string& kind, std::string model) {
  const std::string legacy = "_legacy";
  if (model.size() > legacy.size() && model.compare(model.size() - legacy.size(), legacy.size(), legacy) == 0)
    model.resize(model.size() - legacy.size());
  return kind + "." + model;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& expected, double tolerance, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what << ": not computed";
  ASSERT_EQ(got.sizes(), expected.sizes()) << what;
  const double error = (got.to(torch::kDouble) - expected.to(torch::kDouble)).abs().max().item<double>();
  EXPECT_LE(error, tolerance) << what << ": max-abs error " << error;
}

class BertGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST(BertGoldenDiscoveryTest, FindsEveryProfileWithBothWeightFormats) {
  const auto cases = discover_cases();
  ASSERT_FALSE(cases.empty()) << "no bert_tiny_* fixtures under " << test::golden_dir();
  EXPECT_TRUE(std::any_of(cases.begin(), cases.end(), [](const GoldenCase& c) { return c.weights == "pytorch_model.bin"; }));
  EXPECT_TRUE(std::any_of(cases.begin(), cases.end(), [](const GoldenCase& c) { return c.weights == "model.safetensors"; }));
}

TEST_P(BertGoldenTest, MatchesEveryReferenceTensor) {
  const GoldenCase& c = GetParam();
  const fs::path profile = fs::path(test::golden_dir()) / c.profile;
  const fs::path model_dir = profile / "models" / c.model;
  const BertConfig config = BertConfig::from_file((model_dir / "config.json").string());
  BertForTask model(config);
  load_hf_state_dict(*model, read_weights((model_dir / c.weights).string()), c.weights);
  model->eval();
  torch::NoGradGuard no_grad;

  int io_files = 0;
  for (const auto& file : sorted_entries(profile / "io", false)) {
    const bool zoo = file.find("_mask_zoo.") != std::string::npos;
    if (!zoo && file.find("_mask_hf.") == std::string::npos) continue;
    ++io_files;
    SCOPED_TRACE(file);
    const io::SafetensorsFile ref = io::load_safetensors((profile / "io" / file).string());
    model->bert->set_attention_mask(zoo ? AttentionMask::zoo() : AttentionMask::hf());
    const BertTaskOutput out = model(ref.at("input_ids"), ref.at("token_type_ids"), ref.at("attention_mask"),
                                     BertForwardOptions{true, true});
    const auto layers = static_cast<std::size_t>(config.num_hidden_layers);
    ASSERT_EQ(out.bert.hidden_states.size(), layers + 1);
    ASSERT_EQ(out.bert.attentions.size(), layers);
    expect_close(out.bert.hidden_states[0], ref.at("embedding_output"), 1e-5, "embedding_output");
    for (std::size_t i = 1; i <= layers; ++i) {
      const std::string name = "hidden_states." + std::to_string(i);
      expect_close(out.bert.hidden_states[i], ref.at(name), 5e-5, name);
      const std::string probs = "attention_probs." + std::to_string(i - 1);
      expect_close(out.bert.attentions[i - 1], ref.at(probs), 1e-5, probs);
    }
    EXPECT_FALSE(ref.contains("hidden_states." + std::to_string(layers + 1)));
    expect_close(out.bert.last_hidden_state, ref.at("last_hidden_state"), 5e-5, "last_hidden_state");
    switch (config.head) {
      case BertHead::sequence_classification:
        expect_close(out.bert.pooler_output, ref.at("pooled_output"), 5e-5, "pooled_output");
        expect_close(out.logits, ref.at(head_key("logits", c.model)), 5e-5, head_key("logits", c.model));
        break;
      case BertHead::question_answering:
        EXPECT_FALSE(out.bert.pooler_output.defined());
        expect_close(out.start_logits, ref.at(head_key("start_logits", c.model)), 5e-5, "start_logits");
        expect_close(out.end_logits, ref.at(head_key("end_logits", c.model)), 5e-5, "end_logits");
        break;
      case BertHead::none:
        expect_close(out.bert.pooler_output, ref.at("pooled_output"), 5e-5, "pooled_output");
        break;
    }
  }
  EXPECT_GE(io_files, 2) << "expected hf and zoo input files under " << (profile / "io");
}

// load_pretrained picks model.safetensors over pytorch_model.bin, so each weights file
// is checked from a directory that holds only config.json and that file.
TEST_P(BertGoldenTest, LoadPretrainedMatchesTheExplicitLoad) {
  const GoldenCase& c = GetParam();
  const fs::path model_dir = fs::path(test::golden_dir()) / c.profile / "models" / c.model;
  const test::ScratchDir only_this_format("golden_" + c.name());
  fs::copy_file(model_dir / "config.json", only_this_format.path() / "config.json");
  fs::create_symlink(model_dir / c.weights, only_this_format.path() / c.weights);

  const BertForTask loaded = load_pretrained(only_this_format.str());
  EXPECT_FALSE(loaded->is_training());
  BertForTask explicit_model(BertConfig::from_file((model_dir / "config.json").string()));
  load_hf_state_dict(*explicit_model, read_weights((model_dir / c.weights).string()), c.weights);
  const auto got = hf_state_dict(*loaded);
  const auto expected = hf_state_dict(*explicit_model);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, expected[i].first);
    EXPECT_TRUE(torch::equal(got[i].second, expected[i].second)) << got[i].first;
  }
}

// Both formats of one model dir must hold the same weights: a loader that mangles
// one format (byte order, strides, a dropped key) shows up here even where the
// reference outputs are too tolerant to notice.
TEST(BertGoldenFormatsTest, BothWeightFormatsLoadTheSameWeights) {
  int compared = 0;
  for (const GoldenCase& c : discover_cases()) {
    const fs::path model_dir = fs::path(test::golden_dir()) / c.profile / "models" / c.model;
    const fs::path safetensors = model_dir / "model.safetensors";
    if (c.weights != "pytorch_model.bin" || !fs::exists(safetensors)) continue;
    SCOPED_TRACE(model_dir.string());
    const BertConfig config = BertConfig::from_file((model_dir / "config.json").string());
    BertForTask from_bin(config);
    BertForTask from_safetensors(config);
    load_hf_state_dict(*from_bin, read_weights((model_dir / c.weights).string()), c.weights);
    load_hf_state_dict(*from_safetensors, read_weights(safetensors.string()), "model.safetensors");
    const auto a = hf_state_dict(*from_bin);
    const auto b = hf_state_dict(*from_safetensors);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
    ++compared;
  }
  EXPECT_GE(compared, 1) << "no model dir under " << test::golden_dir() << " holds both weight formats";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BertGoldenTest, ::testing::ValuesIn(discover_cases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) { return info.param.name(); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BertGoldenTest);

}  // namespace
