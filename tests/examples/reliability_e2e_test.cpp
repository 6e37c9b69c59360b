// Reliability of the example binaries, end to end:
// - determinism: bert_eval's metrics, logits, encodings and quantized weights are
//   byte-identical across runs and across --threads 1 / --threads 2 (evaluation
//   and calibration; with QAT, across runs at one thread count), on a golden tiny
//   model and on a larger random model (real SST-2 dev and train data);
// - interrupted work loses nothing: bert_train and bert_eval's QAT, killed with
//   SIGKILL after a checkpoint (twice), resume to the same bytes as a run that was
//   never interrupted.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "qsim/models/bert/bert_checkpoint.hpp"
#include "qsim/sim/quantized_checkpoint.hpp"
#include "qsim/text/vocab.hpp"
#include "support/child_process.hpp"
#include "support/paths.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "tiny_task_files.hpp"

namespace qsim::test {
namespace {

using namespace std::chrono_literals;

// Every regular file under `dir` (relative path → bytes), to compare whole outputs.
std::map<std::string, std::string> files_under(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) out[fs::relative(entry.path(), dir).string()] = read_text_file(entry.path().string());
  return out;
}

// A model card for SST-2 at `max_seq_length` (the golden models have 64 positions).
fs::path write_sst2_card(const fs::path& dir, int64_t max_seq_length) {
  const nlohmann::json card = {{"name", "bert_w8a8_sst2_test"},
                               {"description", "SST-2 card for the determinism tests"},
                               {"task", "sst2"},
                               {"metric", "acc"},
                               {"max_seq_length", max_seq_length},
                               {"param_bitwidth", 8},
                               {"output_bitwidth", 8},
                               {"quant_scheme", "tf_range_learning"},
                               {"attention_mask", "zoo"},
                               {"input_quantization", true},
                               {"reference", nlohmann::json::object()},
                               {"checkpoint_hint", "written by the test"}};
  const fs::path path = dir / fmt::format("sst2_seq{}.json", max_seq_length);
  write(path, card.dump(2));
  return path;
}

// A random BERT wider than the golden ones, over the real bert-base-uncased vocab
// (its size read from the file), with max_seq_length positions.
void write_random_model(const fs::path& dir, const std::string& vocab_file, int64_t positions) {
  const int64_t vocab_size = text::Vocab::from_file(vocab_file).size();
  const nlohmann::json json = {{"vocab_size", vocab_size},     {"hidden_size", 128},
                               {"num_hidden_layers", 2},       {"num_attention_heads", 4},
                               {"intermediate_size", 512},     {"max_position_embeddings", positions},
                               {"num_labels", 2},              {"architectures", {"BertForSequenceClassification"}}};
  torch::manual_seed(11);
  models::bert::BertForTask model(models::bert::BertConfig::from_json(json, "random"));
  models::bert::save_pretrained(*model, dir.string());
}

struct EvalOutput {
  int exit_code = -1;
  std::string err;
  std::map<std::string, std::string> results;    // results.json, logits.safetensors, ...
  std::map<std::string, std::string> quantized;  // weights + encodings of the W8A8 model
};

class DeterminismTest : public ::testing::Test {
 protected:
  // bert_eval with calibration, `qat_steps` QAT steps and --save_logits; every output file kept.
  EvalOutput eval(const fs::path& card, const fs::path& model_dir, int threads, int qat_steps, int64_t batch_size) {
    const std::string tag = fmt::format("{}_t{}_q{}_{}", model_dir.filename().string(), threads, qat_steps, runs_++);
    const fs::path out = root_.path() / ("out_" + tag), saved = root_.path() / ("w8a8_" + tag);
    const CommandResult r = run_command(fmt::format(
        "'{}' --model_config '{}' --model_dir '{}' --data_dir '{}' --output_dir '{}' --save_quantized_model_dir '{}' "
        "--per_device_eval_batch_size {} --max_eval_samples 48 --max_train_samples 64 --calibrate 3 "
        "--qat_max_steps {} --save_logits --threads {}",
        QSIM_BERT_EVAL_BIN, card.string(), model_dir.string(), data_dir(), out.string(), saved.string(), batch_size,
        qat_steps, threads));
    EvalOutput o{r.exit_code, r.err, {}, {}};
    if (r.exit_code == 0) {
      o.results = files_under(out);
      o.quantized = files_under(saved);
    }
    return o;
  }

  static void expect_same_files(const EvalOutput& a, const EvalOutput& b) {
    ASSERT_EQ(a.exit_code, 0) << a.err;
    ASSERT_EQ(b.exit_code, 0) << b.err;
    for (const char* file : {"results.json", "logits.safetensors"}) ASSERT_TRUE(a.results.count(file)) << file;
    ASSERT_TRUE(a.quantized.count(sim::kEncodingsFileName));
    for (const auto& [file, bytes] : a.results) EXPECT_TRUE(b.results.at(file) == bytes) << file << " differs";
    for (const auto& [file, bytes] : a.quantized) EXPECT_TRUE(b.quantized.at(file) == bytes) << file << " differs";
    EXPECT_EQ(b.results.size(), a.results.size());
    EXPECT_EQ(b.quantized.size(), a.quantized.size());
  }

  // Evaluation and calibration (no QAT): the same bytes for two runs at 1 thread
  // and a run at 2 threads. With QAT: the same bytes for two runs at 2 threads
  // (training gradients depend on the thread count, see docs/reliability.md).
  void expect_deterministic(const fs::path& card, const fs::path& model_dir, int64_t batch_size) {
    const EvalOutput reference = eval(card, model_dir, 1, 0, batch_size);
    {
      SCOPED_TRACE("1 thread, again");
      expect_same_files(reference, eval(card, model_dir, 1, 0, batch_size));
    }
    {
      SCOPED_TRACE("2 threads");
      expect_same_files(reference, eval(card, model_dir, 2, 0, batch_size));
    }
    SCOPED_TRACE("QAT, 2 threads, twice");
    expect_same_files(eval(card, model_dir, 2, 3, batch_size), eval(card, model_dir, 2, 3, batch_size));
  }

  ScratchDir root_{"determinism"};
  int runs_ = 0;
};

TEST_F(DeterminismTest, GoldenTinyModelIsBitIdenticalAcrossRunsAndThreadCounts) {
  const fs::path model = fs::path(golden_dir()) / "bert_tiny_sharp" / "models" / "seqcls2";
  ASSERT_TRUE(fs::is_regular_file(model / "config.json")) << model;
  const int64_t positions = nlohmann::json::parse(read(model / "config.json")).at("max_position_embeddings");
  expect_deterministic(write_sst2_card(root_.path(), positions), model, 8);
}

TEST_F(DeterminismTest, LargerRandomModelIsBitIdenticalAcrossRunsAndThreadCounts) {
  const fs::path model = root_.path() / "random128";
  write_random_model(model, (fs::path(data_dir()) / "vocab" / "bert-base-uncased-vocab.txt").string(), 128);
  expect_deterministic(write_sst2_card(root_.path(), 128), model, 16);
}

// Kill-and-resume: a tool writes resumable state to `state_dir` every few steps;
// the test kills it (SIGKILL) once a checkpoint exists, twice, then lets a third
// run finish. The finished outputs must equal an uninterrupted run's byte for byte.
class KillResumeTest : public ::testing::Test {
 protected:
  static int checkpoint_step(const fs::path& state_dir) {
    try {
      return nlohmann::json::parse(read(state_dir / "trainer_state.json")).at("step").get<int>();
    } catch (const std::exception&) {
      return 0;  // not there yet, or being replaced: keep polling
    }
  }

  // Starts the tool and kills it after a checkpoint later than `after_step`;
  // returns the checkpoint step it was killed after.
  int kill_after_checkpoint(const std::string& program, const std::vector<std::string>& args,
                            const fs::path& state_dir, int after_step, const fs::path& final_file) {
    const fs::path log = root_.path() / fmt::format("kill{}.log", after_step);
    ChildProcess child(program, args, log.string());
    EXPECT_TRUE(child.started());
    int seen = 0;
    const bool saw = child.wait_until([&] { return (seen = checkpoint_step(state_dir)) > after_step; }, 120s);
    EXPECT_TRUE(saw) << "no new checkpoint after step " << after_step << ": " << read(log);
    EXPECT_TRUE(child.kill_now()) << "the run ended before it could be killed; give it more steps";
    EXPECT_FALSE(fs::exists(final_file)) << "killed mid-run, yet the final output exists";
    return seen;
  }

  void expect_resume_reproduces(const std::string& program,
                                const std::function<std::vector<std::string>(const fs::path&)>& args,
                                const std::string& state_name, const std::string& final_name,
                                const std::vector<std::string>& compared) {
    const fs::path straight = root_.path() / "straight", killed = root_.path() / "killed";
    const CommandResult full = run_command(command_line(program, args(straight)));
    ASSERT_EQ(full.exit_code, 0) << full.err;
    const int first = kill_after_checkpoint(program, args(killed), killed / state_name, 0, killed / final_name);
    const int second = kill_after_checkpoint(program, args(killed), killed / state_name, first, killed / final_name);
    EXPECT_GT(second, first);
    const CommandResult resumed = run_command(command_line(program, args(killed)));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE((resumed.out + resumed.err).find("resumed from"), std::string::npos) << resumed.err;
    for (const auto& file : compared)
      EXPECT_TRUE(read_text_file((killed / file).string()) == read_text_file((straight / file).string()))
          << file << " of the resumed run differs from the uninterrupted run";
  }

  static std::string command_line(const std::string& program, const std::vector<std::string>& args) {
    std::string line = "'" + program + "'";
    for (const auto& arg : args) line += " '" + arg + "'";
    return line;
  }

  void SetUp() override {
    write_glue(root_.path() / "data" / "glue", 96);
    write_checkpoint(root_.path() / "model", "BertForSequenceClassification", 2, 5, 32);
  }

  ScratchDir root_{"kill_resume"};
};

TEST_F(KillResumeTest, BertTrainKilledTwiceResumesToTheSameWeights) {
  const auto args = [&](const fs::path& out) -> std::vector<std::string> {
    return {"--task", "sst2", "--model_dir", (root_.path() / "model").string(), "--data_dir",
            (root_.path() / "data").string(), "--output_dir", out.string(), "--max_steps", "120",
            "--checkpoint_every", "8", "--batch_size", "4", "--learning_rate", "1e-3", "--seed", "3",
            "--threads", "1", "--no_eval"};
  };
  expect_resume_reproduces(QSIM_BERT_TRAIN_BIN, args, "training_state", "model.safetensors",
                           {"model.safetensors", "config.json"});
}

TEST_F(KillResumeTest, BertEvalQatKilledTwiceResumesToTheSameEncodings) {
  const auto args = [&](const fs::path& out) -> std::vector<std::string> {
    return {"--model_config", "bert_w8a8_sst2", "--model_dir", (root_.path() / "model").string(), "--data_dir",
            (root_.path() / "data").string(), "--output_dir", out.string(), "--save_quantized_model_dir",
            (out / "w8a8").string(), "--per_device_eval_batch_size", "4", "--calibrate", "2", "--qat_max_steps",
            "60", "--qat_checkpoint_every", "6", "--save_logits", "--threads", "1"};
  };
  expect_resume_reproduces(QSIM_BERT_EVAL_BIN, args, "qat_state", "results.json",
                           {"results.json", "logits.safetensors", std::string("w8a8/") + sim::kEncodingsFileName,
                            "w8a8/model.safetensors"});
}

}  // namespace
}  // namespace qsim::test
