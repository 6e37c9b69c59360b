// A freshly built BERT is initialised as Hugging Face's BertPreTrainedModel does:
// Linear and Embedding weights ~ N(0, initializer_range), biases 0, the padding
// embedding row 0, LayerNorm weight 1 and bias 0.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/models/bert/bert_config.hpp"
#include "qsim/models/bert/bert_for_task.hpp"

namespace qsim::models::bert {
namespace {

BertConfig config(double range) {
  nlohmann::json json = {{"vocab_size", 500},         {"hidden_size", 64}, {"num_hidden_layers", 2},
                         {"num_attention_heads", 4},   {"intermediate_size", 128},
                         {"initializer_range", range}, {"architectures", {"BertForSequenceClassification"}}};
  return BertConfig::from_json(json, "init test");
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(BertInitTest, FollowsHuggingFacesInitWeights) {
  for (const double range : {0.02, 0.1}) {
    torch::manual_seed(0);
    BertForTask model(config(range));
    int64_t checked = 0;
    for (const auto& p : model->named_parameters()) {
      const std::string& name = p.key();
      const torch::Tensor& t = p.value();
      if (name.find("encoding_") != std::string::npos) continue;
      ++checked;
      if (name.find("LayerNorm.weight") != std::string::npos) {
        EXPECT_TRUE(torch::equal(t, torch::ones_like(t))) << name;
      } else if (ends_with(name, ".bias")) {
        EXPECT_TRUE(torch::equal(t, torch::zeros_like(t))) << name;
      } else if (t.numel() >= 64 * 64) {  // big enough for the moments to be tight
        EXPECT_NEAR(t.mean().item<double>(), 0.0, 0.1 * range) << name;
        EXPECT_NEAR(t.std().item<double>(), range, 0.1 * range) << name;
      }
    }
    EXPECT_GT(checked, 20);
    const torch::Tensor words = model->bert->embeddings->word_embeddings->weight;
    EXPECT_TRUE(torch::equal(words[0], torch::zeros_like(words[0]))) << "padding row (pad_token_id 0)";
    EXPECT_NEAR(words.std().item<double>(), range, 0.05 * range);
    EXPECT_NEAR(model->classifier->weight.std().item<double>(), range, 0.5 * range);
  }
}

TEST(BertInitTest, InitializerRangeRoundTripsAndIsValidated) {
  EXPECT_DOUBLE_EQ(config(0.05).initializer_range, 0.05);
  EXPECT_DOUBLE_EQ(BertConfig::from_json(config(0.05).to_json()).initializer_range, 0.05);
  EXPECT_DOUBLE_EQ(BertConfig().initializer_range, 0.02);
  EXPECT_THROW(config(-1.0), ConfigError);
}

}  // namespace
}  // namespace qsim::models::bert
