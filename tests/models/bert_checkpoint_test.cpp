// Checkpoint ↔ model: key mapping (gamma/beta, bert.-less, position_ids), strictness,
// save_pretrained round trip, and bad files.
#include "qsim/models/bert/bert_checkpoint.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/bert_test_util.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/io/safetensors.hpp"
#include "qsim/error.hpp"
#include "support/expect_error.hpp"
#include "support/paths.hpp"
#include "tests/io/checkpoint_builder.hpp"

namespace {

namespace fs = std::filesystem;
using namespace qsim;
using namespace qsim::models::bert;

io::TensorList cloned_state(const torch::nn::Module& model) {
  io::TensorList out;
  for (const auto& [name, tensor] : hf_state_dict(model)) out.emplace_back(name, tensor.detach().clone());
  return out;
}

void expect_same_weights(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto sa = hf_state_dict(a);
  const auto sb = hf_state_dict(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
  }
}

// A model dir with a copy of a fixture's config.json (the first fixture found).
std::string fixture_config() {
  for (const auto& profile : fs::directory_iterator(test::golden_dir())) {
    const fs::path config = profile.path() / "models" / "seqcls2" / "config.json";
    if (fs::exists(config)) return config.string();
  }
  return {};
}

TEST(BertCheckpointTest, StateDictHasHuggingFaceNamesAndNoQuantizerState) {
  BertForTask model(test::small_config(BertHead::sequence_classification));
  const auto state = hf_state_dict(*model);
  ASSERT_FALSE(state.empty());
  EXPECT_EQ(state.front().first, "bert.embeddings.word_embeddings.weight");
  EXPECT_EQ(state.back().first, "classifier.bias");
  for (const auto& [name, tensor] : state) EXPECT_EQ(name.find("quantizer"), std::string::npos) << name;
  // 5 embedding tensors, 16 per layer, 2 pooler, 2 classifier.
  EXPECT_EQ(state.size(), 5u + 16u * 2u + 2u + 2u);
}

TEST(BertCheckpointTest, AcceptsGammaBetaBertLessKeysAndIgnoresPositionIds) {
  torch::manual_seed(3);
  BertForTask source(test::small_config(BertHead::none));
  io::TensorList renamed;
  for (auto [name, tensor] : cloned_state(*source)) {
    name = name.substr(std::string("bert.").size());  // a BertModel checkpoint
    const auto swap = [&name](const std::string& from, const std::string& to) {
      if (name.size() >= from.size() && name.compare(name.size() - from.size(), from.size(), from) == 0)
        name = name.substr(0, name.size() - from.size()) + to;
    };
    swap("LayerNorm.weight", "LayerNorm.gamma");
    swap("LayerNorm.bias", "LayerNorm.beta");
    renamed.emplace_back(name, tensor);
  }
  renamed.emplace_back("embeddings.position_ids", torch::arange(16).unsqueeze(0));
  BertForTask target(test::small_config(BertHead::none));
  load_hf_state_dict(*target, renamed, "renamed.bin");
  expect_same_weights(*source, *target);
}

TEST(BertCheckpointTest, ReportsMissingUnexpectedAndMisshapenKeysByName) {
  BertForTask model(test::small_config(BertHead::sequence_classification, 3));
  io::TensorList state = cloned_state(*model);

  io::TensorList missing(state.begin(), state.end() - 1);
  QSIM_EXPECT_THROW_MSG(load_hf_state_dict(*model, missing, "w.safetensors"), IoError,
                        {"w.safetensors", "missing keys", "'classifier.bias'"});

  io::TensorList extra = state;
  extra.emplace_back("cls.predictions.bias", torch::zeros({3}));
  QSIM_EXPECT_THROW_MSG(load_hf_state_dict(*model, extra, "w.safetensors"), IoError,
                        {"unexpected keys", "'cls.predictions.bias'"});

  BertForTask two_labels(test::small_config(BertHead::sequence_classification, 2));
  QSIM_EXPECT_THROW_MSG(load_hf_state_dict(*model, cloned_state(*two_labels), "w.safetensors"), IoError,
                        {"w.safetensors", "'classifier.weight'", "shape [2, 12]", "model expects [3, 12]"});

  io::TensorList integer = state;
  integer[0].second = integer[0].second.to(torch::kLong);
  QSIM_EXPECT_THROW_MSG(load_hf_state_dict(*model, integer, "w.safetensors"), IoError,
                        {"'bert.embeddings.word_embeddings.weight'", "Long"});

  io::TensorList twice = state;
  twice.emplace_back("classifier.bias", torch::zeros({3}));
  QSIM_EXPECT_THROW_MSG(load_hf_state_dict(*model, twice, "w.safetensors"), IoError, {"'classifier.bias'", "twice"});
}

TEST(BertCheckpointTest, SavePretrainedRoundTrips) {
  torch::manual_seed(4);
  BertConfig config = test::small_config(BertHead::question_answering);
  BertForTask model(config);
  test::ScratchDir dir;
  const std::string out = dir.file("saved");
  save_pretrained(*model, out);
  EXPECT_TRUE(fs::exists(fs::path(out) / "config.json"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "model.safetensors"));
  BertForTask loaded = load_pretrained(out);
  expect_same_weights(*model, *loaded);
  EXPECT_EQ(loaded->config.to_json(), config.to_json());
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = torch::randint(0, config.vocab_size, {2, 7}, torch::kLong);
  EXPECT_TRUE(torch::equal(model(ids).start_logits, loaded(ids).start_logits));
}

TEST(BertCheckpointTest, MissingConfigIsAnIoErrorNamingIt) {
  test::ScratchDir dir;
  QSIM_EXPECT_THROW_MSG(load_pretrained(dir.str()), IoError, {"config.json"});
}

TEST(BertCheckpointTest, MissingWeightsIsAnIoError) {
  const std::string config = fixture_config();
  ASSERT_FALSE(config.empty());
  test::ScratchDir dir;
  fs::copy_file(config, dir.file("config.json"));
  QSIM_EXPECT_THROW_MSG(load_pretrained(dir.str()), IoError, {"model.safetensors", "pytorch_model.bin"});
}

TEST(BertCheckpointTest, TruncatedAndCorruptWeightsAreIoErrors) {
  const std::string config = fixture_config();
  ASSERT_FALSE(config.empty());
  const fs::path source_dir = fs::path(config).parent_path();
  for (const char* weights : {"model.safetensors", "pytorch_model.bin"}) {
    SCOPED_TRACE(weights);
    test::ScratchDir dir;
    fs::copy_file(config, dir.file("config.json"));
    const auto size = fs::file_size(source_dir / weights);
    fs::copy_file(source_dir / weights, dir.file(weights));
    fs::resize_file(dir.file(weights), size / 2);
    QSIM_EXPECT_THROW_MSG(load_pretrained(dir.str()), IoError, {weights});

    std::ofstream(dir.file(weights), std::ios::binary | std::ios::trunc) << "not a checkpoint at all, just text";
    QSIM_EXPECT_THROW_MSG(load_pretrained(dir.str()), IoError, {weights});
  }
}

TEST(BertCheckpointTest, PickleWithAForbiddenGlobalIsRejected) {
  const std::string config = fixture_config();
  ASSERT_FALSE(config.empty());
  test::ScratchDir dir;
  fs::copy_file(config, dir.file("config.json"));
  test::PickleBuilder pickle;
  pickle.proto().global("os", "system").str("echo pwned").op('\x85').op('R').stop();
  test::write_zip_checkpoint(dir.file("pytorch_model.bin"), pickle.bytes(), {});
  QSIM_EXPECT_THROW_MSG(load_pretrained(dir.str()), IoError, {"pytorch_model.bin", "forbidden global 'os.system'"});
}

TEST(BertCheckpointTest, WrongShapesInAFixtureDirectoryAreReportedByName) {
  const std::string config_path = fixture_config();
  ASSERT_FALSE(config_path.empty());
  test::ScratchDir dir;
  nlohmann::json config = io::read_json_file(config_path);
  config["id2label"] = {{"0", "a"}, {"1", "b"}, {"2", "c"}, {"3", "d"}};
  config.erase("label2id");
  std::ofstream(dir.file("config.json")) << config.dump();
  fs::copy_file(fs::path(config_path).parent_path() / "model.safetensors", dir.file("model.safetensors"));
  QSIM_EXPECT_THROW_MSG(load_pretrained(dir.str()), IoError, {"model.safetensors", "'classifier.weight'", "[4, "});
}

}  // namespace
