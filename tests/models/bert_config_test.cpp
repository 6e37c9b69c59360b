#include "qsim/models/bert/bert_config.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "models/bert_test_util.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/error.hpp"
#include "support/expect_error.hpp"
#include "support/paths.hpp"

namespace {

using namespace qsim;
using namespace qsim::models::bert;
using nlohmann::json;

json base_json() {
  return {{"hidden_size", 16}, {"num_hidden_layers", 1}, {"num_attention_heads", 4}, {"intermediate_size", 8},
          {"vocab_size", 30},  {"max_position_embeddings", 10}};
}

TEST(BertConfigTest, ReadsEveryFixtureConfig) {
  int read = 0;
  for (const auto& profile : std::filesystem::directory_iterator(test::golden_dir())) {
    const auto models = profile.path() / "models";
    if (profile.path().filename().string().rfind("bert_tiny_", 0) != 0 || !std::filesystem::exists(models)) continue;
    for (const auto& dir : std::filesystem::directory_iterator(models)) {
      const std::string path = (dir.path() / "config.json").string();
      const json raw = io::read_json_file(path);
      const BertConfig config = BertConfig::from_file(path);
      EXPECT_EQ(config.hidden_size, raw.at("hidden_size").get<int64_t>());
      EXPECT_EQ(config.num_hidden_layers, raw.at("num_hidden_layers").get<int64_t>());
      EXPECT_EQ(config.vocab_size, raw.at("vocab_size").get<int64_t>());
      EXPECT_EQ(config.num_labels, static_cast<int64_t>(raw.at("id2label").size()));
      EXPECT_EQ(config.layer_norm_eps, raw.at("layer_norm_eps").get<double>());
      EXPECT_EQ(config.architectures, raw.at("architectures").get<std::vector<std::string>>());
      ++read;
    }
  }
  EXPECT_GT(read, 0);
}

TEST(BertConfigTest, LabelsHeadAndProblemType) {
  json j = base_json();
  j["architectures"] = {"BertForSequenceClassification"};
  j["id2label"] = {{"0", "neg"}, {"1", "neu"}, {"2", "pos"}};
  const BertConfig config = BertConfig::from_json(j);
  EXPECT_EQ(config.head, BertHead::sequence_classification);
  EXPECT_EQ(config.num_labels, 3);
  EXPECT_EQ(config.id2label, (std::vector<std::string>{"neg", "neu", "pos"}));
  EXPECT_EQ(config.label2id.at("pos"), 2);
  EXPECT_FALSE(config.is_regression());

  j.erase("id2label");
  j["num_labels"] = 1;
  const BertConfig stsb = BertConfig::from_json(j);
  EXPECT_EQ(stsb.num_labels, 1);
  EXPECT_TRUE(stsb.is_regression());
  EXPECT_EQ(stsb.id2label, (std::vector<std::string>{"LABEL_0"}));
}

TEST(BertConfigTest, DefaultsAreHuggingFaces) {
  const BertConfig config = BertConfig::from_json(json::object());
  EXPECT_EQ(config.hidden_size, 768);
  EXPECT_EQ(config.num_hidden_layers, 12);
  EXPECT_EQ(config.vocab_size, 30522);
  EXPECT_EQ(config.max_position_embeddings, 512);
  EXPECT_EQ(config.layer_norm_eps, 1e-12);
  EXPECT_EQ(config.num_labels, 2);
  EXPECT_EQ(config.head, BertHead::none);
}

TEST(BertConfigTest, ToJsonRoundTrips) {
  json j = base_json();
  j["architectures"] = {"BertForQuestionAnswering"};
  j["custom_field"] = "kept";
  const BertConfig config = BertConfig::from_json(j);
  const json out = config.to_json();
  EXPECT_EQ(out.at("custom_field"), "kept");
  const BertConfig again = BertConfig::from_json(out);
  EXPECT_EQ(again.head, BertHead::question_answering);
  EXPECT_EQ(again.hidden_size, 16);
  EXPECT_EQ(again.id2label, config.id2label);
}

TEST(BertConfigTest, RejectsUnsupportedOrInconsistentFields) {
  json j = base_json();
  j["hidden_act"] = "gelu_new";
  QSIM_EXPECT_THROW_MSG(BertConfig::from_json(j, "c.json"), ConfigError, {"c.json", "'hidden_act'", "gelu_new"});
  j = base_json();
  j["num_attention_heads"] = 3;
  QSIM_EXPECT_THROW_MSG(BertConfig::from_json(j, "c.json"), ConfigError, {"'hidden_size'", "16", "3"});
  j = base_json();
  j["architectures"] = {"BertForMaskedLM"};
  QSIM_EXPECT_THROW_MSG(BertConfig::from_json(j, "c.json"), ConfigError, {"'architectures'", "BertForMaskedLM"});
  j = base_json();
  j["hidden_size"] = "big";
  QSIM_EXPECT_THROW_MSG(BertConfig::from_json(j, "c.json"), ConfigError, {"'hidden_size'", "number", "big"});
  j = base_json();
  j["position_embedding_type"] = "relative_key";
  QSIM_EXPECT_THROW_MSG(BertConfig::from_json(j, "c.json"), ConfigError, {"position_embedding_type", "relative_key"});
  j = base_json();
  j["architectures"] = {"BertForQuestionAnswering"};
  j["num_labels"] = 3;
  QSIM_EXPECT_THROW_MSG(BertConfig::from_json(j, "c.json"), ConfigError, {"num_labels", "2", "3"});
}

TEST(BertConfigTest, MissingFileIsAnIoError) {
  test::ScratchDir dir;
  QSIM_EXPECT_THROW_MSG(BertConfig::from_file(dir.file("config.json")), IoError, {"config.json"});
}

TEST(AttentionMaskTest, ParsesModesAndValues) {
  EXPECT_EQ(AttentionMask::parse("hf").mode, MaskMode::hf);
  EXPECT_EQ(AttentionMask::parse("zoo").mode, MaskMode::zoo);
  const AttentionMask custom = AttentionMask::parse("-6.5");
  EXPECT_EQ(custom.mode, MaskMode::custom);
  EXPECT_EQ(custom.custom_value, -6.5);
  QSIM_EXPECT_THROW_MSG(AttentionMask::parse("big"), ConfigError, {"'big'", "hf, zoo"});
  QSIM_EXPECT_THROW_MSG(AttentionMask::parse("-6x"), ConfigError, {"'-6x'"});
}

TEST(AttentionMaskTest, ZooMaskIsInt64ZeroOrMinusSix) {
  const at::Tensor mask = at::tensor({1, 1, 0}, at::kLong).view({1, 3});
  const at::Tensor extended = AttentionMask::zoo().extend(mask, at::kFloat);
  EXPECT_EQ(extended.sizes(), (std::vector<int64_t>{1, 1, 1, 3}));
  EXPECT_EQ(extended[0][0][0][2].item<float>(), -10000.0f);
  const at::Tensor key = AttentionMask::zoo().key_mask(extended);
  EXPECT_EQ(key.scalar_type(), at::kLong);
  EXPECT_TRUE(at::equal(key.flatten(), at::tensor({0, 0, -6}, at::kLong)));
  const at::Tensor custom = AttentionMask::custom(-3.0).extend(mask, at::kFloat);
  EXPECT_TRUE(AttentionMask::custom(-3.0).key_mask(custom).is_same(custom));
  EXPECT_EQ(custom[0][0][0][2].item<float>(), -3.0f);
  EXPECT_EQ(custom[0][0][0][0].item<float>(), 0.0f);
}

}  // namespace
