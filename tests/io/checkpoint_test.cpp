#include "qsim/io/checkpoint.hpp"

#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "io/checkpoint_builder.hpp"
#include "support/scratch_dir.hpp"
#include "qsim/error.hpp"
#include "qsim/io/pytorch_bin.hpp"
#include "support/expect_error.hpp"
#include "support/paths.hpp"

namespace qsim::io {
namespace {

namespace fs = std::filesystem;

bool bitwise_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  const at::Tensor ca = a.contiguous();
  const at::Tensor cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

std::map<std::string, at::Tensor> as_map(const TensorList& tensors) {
  std::map<std::string, at::Tensor> map;
  for (const auto& [name, tensor] : tensors) EXPECT_TRUE(map.emplace(name, tensor).second) << name;
  return map;
}

// Every golden model directory: <golden>/<profile>/models/<head>/.
std::vector<fs::path> golden_model_dirs() {
  std::vector<fs::path> dirs;
  for (const auto& profile : fs::directory_iterator(test::golden_dir())) {
    const fs::path models = profile.path() / "models";
    if (!fs::is_directory(models)) continue;
    for (const auto& model : fs::directory_iterator(models)) {
      if (model.is_directory()) dirs.push_back(model.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// position_ids is arange(P) expanded to [1, P] (stride (0, 1) in the pickle).
void expect_position_ids(const at::Tensor& ids) {
  ASSERT_EQ(ids.dim(), 2);
  EXPECT_EQ(ids.size(0), 1);
  EXPECT_TRUE(ids.is_contiguous());
  EXPECT_TRUE(bitwise_equal(ids, at::arange(ids.size(1), at::kLong).unsqueeze(0)));
}

TEST(CheckpointTest, GoldenSafetensorsAndPytorchBinHoldIdenticalWeights) {
  int compared = 0;
  for (const fs::path& dir : golden_model_dirs()) {
    if (!fs::exists(dir / kSafetensorsWeightsName) || !fs::exists(dir / kPytorchWeightsName)) continue;
    SCOPED_TRACE(dir.string());
    ++compared;
    const auto safetensors = as_map(load_safetensors((dir / kSafetensorsWeightsName).string()).tensors);
    auto bin = as_map(load_pytorch_bin((dir / kPytorchWeightsName).string()));
    const auto ids = bin.find("bert.embeddings.position_ids");
    ASSERT_NE(ids, bin.end());
    expect_position_ids(ids->second);
    bin.erase(ids);
    ASSERT_EQ(bin.size(), safetensors.size());
    for (const auto& [name, tensor] : safetensors) {
      const auto other = bin.find(name);
      ASSERT_NE(other, bin.end()) << name;
      EXPECT_TRUE(bitwise_equal(tensor, other->second)) << name;
    }
  }
  EXPECT_GT(compared, 0) << "no golden model directory holds both weight files";
}

TEST(CheckpointTest, GoldenLegacyCheckpointMatchesItsModernTwin) {
  int compared = 0;
  for (const fs::path& dir : golden_model_dirs()) {
    const std::string name = dir.filename().string();
    const std::string suffix = "_legacy";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const fs::path twin = dir.parent_path() / name.substr(0, name.size() - suffix.size());
    SCOPED_TRACE(dir.string());
    ++compared;
    const TensorList legacy = load_state_dict(dir.string());  // only pytorch_model.bin there
    const auto modern = as_map(load_safetensors((twin / kSafetensorsWeightsName).string()).tensors);
    ASSERT_EQ(legacy.size(), modern.size());
    for (const auto& [key, tensor] : legacy) {
      // The Google-converted naming transformers renames on load.
      std::string mapped = key;
      for (const auto& [from, to] : {std::pair{".gamma", ".weight"}, std::pair{".beta", ".bias"}}) {
        const std::string f = from;
        if (mapped.size() > f.size() && mapped.compare(mapped.size() - f.size(), f.size(), f) == 0) {
          mapped = mapped.substr(0, mapped.size() - f.size()) + to;
        }
      }
      const auto other = modern.find(mapped);
      ASSERT_NE(other, modern.end()) << key;
      EXPECT_TRUE(bitwise_equal(tensor, other->second)) << key;
    }
  }
  EXPECT_GT(compared, 0) << "no golden *_legacy model directory";
}

TEST(CheckpointTest, PrefersSafetensorsAndReadsGoldenConfigs) {
  for (const fs::path& dir : golden_model_dirs()) {
    SCOPED_TRACE(dir.string());
    const std::string weights = find_weights_file(dir.string());
    const bool has_safetensors = fs::exists(dir / kSafetensorsWeightsName);
    EXPECT_EQ(fs::path(weights).filename(), has_safetensors ? kSafetensorsWeightsName : kPytorchWeightsName);
    const nlohmann::json config = read_json_file((dir / kConfigName).string());
    EXPECT_TRUE(config.is_object());
    EXPECT_TRUE(config.contains("hidden_size"));
    const TensorList state_dict = load_state_dict(dir.string());
    EXPECT_FALSE(state_dict.empty());
  }
}

TEST(CheckpointTest, RejectsDirectoryWithoutWeights) {
  test::ScratchDir dir;
  const std::string path = dir.path().string();
  QSIM_EXPECT_THROW_MSG(load_state_dict(path), IoError,
                        {path.c_str(), "model.safetensors", "pytorch_model.bin"});
  QSIM_EXPECT_THROW_MSG(load_state_dict(dir.file("absent")), IoError, {"absent", "not a directory"});
}

TEST(CheckpointTest, ReportsCorruptWeightsByFile) {
  test::ScratchDir dir;
  test::write_file(dir.file(kPytorchWeightsName), "PK\x03\x04 not really a zip");
  QSIM_EXPECT_THROW_MSG(load_state_dict(dir.path().string()), IoError, {"pytorch_model.bin", "zip"});
  test::write_file(dir.file(kSafetensorsWeightsName), "\x02");
  QSIM_EXPECT_THROW_MSG(load_state_dict(dir.path().string()), IoError, {"model.safetensors", "truncated"});
}

TEST(CheckpointTest, ReadJsonFileRejectsMissingAndInvalidFiles) {
  test::ScratchDir dir;
  QSIM_EXPECT_THROW_MSG(read_json_file(dir.file("config.json")), IoError, {"config.json", "cannot open"});
  test::write_file(dir.file("bad.json"), "{\"hidden_size\": 64,");
  QSIM_EXPECT_THROW_MSG(read_json_file(dir.file("bad.json")), IoError, {"bad.json", "invalid JSON"});
  // Found by fuzz_encodings: a number beyond double range is nlohmann's out_of_range.
  test::write_file(dir.file("huge.json"), "3e330");
  QSIM_EXPECT_THROW_MSG(read_json_file(dir.file("huge.json")), IoError, {"huge.json", "invalid JSON"});
}

TEST(CheckpointTest, SaveCheckpointWritesConfigAndSafetensors) {
  test::ScratchDir dir;
  const std::string out = dir.file("nested/model");
  const TensorList state_dict = {{"a.weight", at::randn({3, 2})}, {"a.bias", at::randn({3})}};
  const nlohmann::json config = {{"hidden_size", 2}, {"model_type", "bert"}};
  save_checkpoint(out, state_dict, config);
  EXPECT_EQ(read_json_file(out + "/config.json"), config);
  const SafetensorsFile saved = load_safetensors(out + "/model.safetensors");
  EXPECT_EQ(saved.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  const auto loaded = as_map(load_state_dict(out));
  ASSERT_EQ(loaded.size(), state_dict.size());
  for (const auto& [name, tensor] : state_dict) EXPECT_TRUE(bitwise_equal(loaded.at(name), tensor)) << name;
}

}  // namespace
}  // namespace qsim::io
