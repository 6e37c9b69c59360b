// qsim encode, run as the built binary (QSIM_TOOL_PATH) on small safetensors files.
#include <filesystem>
#include <string>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "analyzer_test_util.hpp"
#include "qsim/analysis/per_channel_analyzer.hpp"
#include "qsim/io/safetensors.hpp"
#include "support/run_command.hpp"

namespace qsim::analysis::test {
namespace {

namespace fs = std::filesystem;

using ToolRun = qsim::test::CommandResult;

// Runs the tool with `args`: stdout is the result, stderr holds the logs.
ToolRun run_tool(const std::string& args) { return qsim::test::run_command(std::string(QSIM_TOOL_PATH) + " " + args); }

class EncodeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("qsim_encode_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& file, const io::TensorList& tensors) {
    const std::string path = (dir_ / file).string();
    io::save_safetensors(path, tensors);
    return path;
  }

  fs::path dir_;
};

void expect_entry(const nlohmann::json& entry, const quant::Encoding& e, const char* symmetric) {
  EXPECT_EQ(entry.size(), 7u);
  EXPECT_EQ(entry.at("bitwidth").get<int>(), e.bitwidth);
  EXPECT_EQ(entry.at("dtype").get<std::string>(), "int");
  EXPECT_EQ(entry.at("is_symmetric").get<std::string>(), symmetric);
  EXPECT_EQ(entry.at("min").get<double>(), e.min);  // 17 digits: bit-exact round trip
  EXPECT_EQ(entry.at("max").get<double>(), e.max);
  EXPECT_TRUE(entry.at("offset").is_number_integer());
  EXPECT_EQ(entry.at("offset").get<int64_t>(), static_cast<int64_t>(e.offset));
  EXPECT_EQ(entry.at("scale").get<double>(), e.delta);
}

// Batches {−1, 2} and {0.5, 3} (the second named in a two-tensor file): TF gives
// Δ = 4/255, offset −64 (tf_analyzer_test).
TEST_F(EncodeCliTest, TfOverTwoBatchesPrintsOneEntry) {
  const std::string a = write("a.safetensors", {{"x", batch({-1.0f, 2.0f})}});
  const std::string b = write("b.safetensors", {{"other", batch({9.0f})}, {"x", batch({0.5f, 3.0f})}});
  const ToolRun r = run_tool("encode --input " + a + " --input " + b + ":x --analyzer tf --bitwidth 8 --scheme asymmetric");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc.size(), 1u);
  ASSERT_EQ(doc.at("encodings").size(), 1u);
  const nlohmann::json& entry = doc["encodings"][0];
  EXPECT_EQ(entry.at("offset").get<int64_t>(), -64);
  EXPECT_DOUBLE_EQ(entry.at("scale").get<double>(), 4.0 / 255);
  expect_entry(entry, fed(AnalyzerKind::tf, {batch({-1.0f, 2.0f}), batch({0.5f, 3.0f})})->compute_encoding(
                          8, quant::Symmetry::asymmetric),
               "False");
  // the exact text of one field: string booleans and a bare integer offset
  EXPECT_NE(r.out.find(R"("dtype": "int", "is_symmetric": "False")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("offset": -64,)"), std::string::npos) << r.out;
}

TEST_F(EncodeCliTest, PerChannelPrintsOneEntryPerChannelInOrder) {
  at::manual_seed(4);
  const at::Tensor w = at::randn({3, 8});
  const std::string path = write("w.safetensors", {{"weight", w}});
  const ToolRun r = run_tool("encode --input " + path +
                         " --analyzer percentile --percentile 99 --bitwidth 4 --scheme symmetric --axis 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  PerChannelAnalyzer pc(AnalyzerKind::percentile, 1, AnalyzerOptions().percentile(99));
  pc.update_stats(w);
  const std::vector<quant::Encoding> expected = pc.compute_encodings(4, quant::Symmetry::symmetric);
  ASSERT_EQ(doc.at("encodings").size(), expected.size());
  for (size_t c = 0; c < expected.size(); ++c) expect_entry(doc["encodings"][c], expected[c], "True");
}

TEST_F(EncodeCliTest, EveryAnalyzerAndScheme) {
  at::manual_seed(6);
  const at::Tensor x = at::randn({500}) + 0.3f;
  const std::string path = write("x.safetensors", {{"x", x}});
  for (const char* analyzer : {"tf", "tf_enhanced", "percentile", "mse", "entropy"}) {
    for (const char* scheme : {"asymmetric", "symmetric", "strict_symmetric", "unsigned_symmetric"}) {
      const ToolRun r = run_tool(fmt::format("encode --input {} --analyzer {} --bitwidth 8 --scheme {}", path, analyzer,
                                         scheme));
      ASSERT_EQ(r.exit_code, 0) << analyzer << " " << scheme;
      const quant::Encoding e =
          fed(parse_analyzer_kind(analyzer), {x})->compute_encoding(8, quant::parse_symmetry(scheme));
      expect_entry(nlohmann::json::parse(r.out).at("encodings").at(0), e,
                   std::string(scheme) == "asymmetric" ? "False" : "True");
    }
  }
}

TEST_F(EncodeCliTest, BadFlagsExitWithConfigErrorAndNoStdout) {
  const std::string path = write("x.safetensors", {{"x", batch({-1.0f, 1.0f})}});
  const std::string base = "encode --input " + path;
  for (const std::string& args :
       {base + " --analyzer sqnr --bitwidth 8 --scheme asymmetric",
        base + " --analyzer tf --bitwidth 33 --scheme asymmetric",
        base + " --analyzer tf --bitwidth 8 --scheme signed",
        base + " --analyzer percentile --percentile 0 --bitwidth 8 --scheme asymmetric",
        "encode --input " + (dir_ / "missing.safetensors").string() + " --analyzer tf --bitwidth 8 --scheme asymmetric",
        base + ":nope --analyzer tf --bitwidth 8 --scheme asymmetric"}) {
    const ToolRun r = run_tool(args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(r.out, "") << args;
  }
  // a shape error (axis out of range) is a ValueError: exit 1
  const ToolRun r = run_tool(base + " --analyzer tf --bitwidth 8 --scheme asymmetric --axis 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace qsim::analysis::test
