// Runs the built `qsim qdq` on small generated files and checks its outputs
// against the library (QSIM_TOOL_PATH is the tool binary, set by CMake).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "qsim/io/safetensors.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"
#include "support/run_command.hpp"

namespace qsim::quant {
namespace {

namespace fs = std::filesystem;

class QdqCliTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qsim_qdq_" + std::to_string(::getpid()) + "_" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    at::manual_seed(9);
    x_ = at::randn({4, 6}) * 2;
    g_ = at::randn({4, 6});
    io::save_safetensors(path("x.safetensors"), {{"x", x_}});
    io::save_safetensors(path("two.safetensors"), {{"a", x_}, {"grad", g_}});
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs the tool; returns its exit code and keeps stderr in err_.
  int run(const std::string& args) {
    const test::CommandResult result = test::run_command(std::string(QSIM_TOOL_PATH) + " qdq " + args);
    err_ = result.err;
    return result.exit_code;
  }

  at::Tensor output(const std::string& name = "output") {
    return io::load_safetensors(path("y.safetensors")).at(name).clone();
  }

  fs::path dir_;
  at::Tensor x_, g_;
  std::string err_;
};

TEST_F(QdqCliTest, StaticPerTensorUsesMinMaxAsGiven) {
  ASSERT_EQ(run("--input " + path("x.safetensors") + " --output " + path("y.safetensors") +
                " --min -1 --max 1 --scheme asymmetric"),
            0)
      << err_;
  EXPECT_TRUE(at::equal(output(), fake_quantize_static(x_, Encoding{8, -1.0, 1.0, 0, 0})));  // min == −max rule
}

TEST_F(QdqCliTest, StaticPerChannelCodesWithNamedTensor) {
  ASSERT_EQ(run("--input " + path("two.safetensors") + ":a --output " + path("y.safetensors") +
                " --min=-1,-2,-0.5,-3 --max=1,2.5,0.5,3 --axis 0 --bitwidth 4 --scheme symmetric --codes"),
            0)
      << err_;
  const std::vector<Encoding> encs{{4, -1, 1, 0, 0}, {4, -2, 2.5, 0, 0}, {4, -0.5, 0.5, 0, 0}, {4, -3, 3, 0, 0}};
  EXPECT_TRUE(at::equal(output(), quantize_static(x_, encs, 0, Symmetry::symmetric)));
}

TEST_F(QdqCliTest, EncodingsJsonBitwidthWinsOverFlag) {
  std::ofstream(path("enc.json")) << R"({"encodings": [{"bitwidth": 4, "dtype": "int", "is_symmetric": "False",
      "min": -0.75, "max": 1.5, "offset": -99, "scale": 123.0}]})";
  ASSERT_EQ(run("--input " + path("x.safetensors") + " --output " + path("y.safetensors") + " --encodings " +
                path("enc.json") + " --bitwidth 8 --scheme asymmetric"),
            0)
      << err_;
  EXPECT_TRUE(at::equal(output(), fake_quantize_static(x_, Encoding{4, -0.75, 1.5, 0, 0})));
}

TEST_F(QdqCliTest, LearnedGridWithGradients) {
  ASSERT_EQ(run("--input " + path("two.safetensors") + ":a --output " + path("y.safetensors") +
                " --min=-1.5 --max 2 --scheme asymmetric --grid learned --grad " + path("two.safetensors") + ":grad"),
            0)
      << err_;
  const RangeLearningOptions options{};
  const at::Tensor min = at::tensor({-1.5f}), max = at::tensor({2.0f});
  EXPECT_TRUE(at::equal(output(), range_learning_quantize(x_, min, max, options)));
  const RangeLearningGrads grads = range_learning_backward(x_, g_, min, max, options);
  EXPECT_TRUE(at::equal(output("grad_input"), grads.grad_input));
  EXPECT_EQ(output("grad_min").dim(), 0);
  EXPECT_EQ(output("grad_min").item<float>(), grads.grad_min.item<float>());
  EXPECT_EQ(output("grad_max").item<float>(), grads.grad_max.item<float>());
}

TEST_F(QdqCliTest, UnsignedLearnedGradMinIsZero) {
  ASSERT_EQ(run("--input " + path("two.safetensors") + ":a --output " + path("y.safetensors") +
                " --min=0,0,0,0 --max=1,2,3,4 --axis 0 --scheme unsigned_symmetric --grid learned --grad " +
                path("two.safetensors") + ":grad"),
            0)
      << err_;
  EXPECT_TRUE(at::equal(output("grad_min"), at::zeros({4})));
  EXPECT_EQ(output("grad_max").sizes(), at::IntArrayRef({4}));
}

TEST_F(QdqCliTest, ErrorsGoToStderrWithNonZeroExit) {
  EXPECT_NE(run("--input " + path("two.safetensors") + " --output " + path("y.safetensors") +
                " --min -1 --max 1 --scheme asymmetric"),
            0);
  EXPECT_NE(err_.find("holds 2 tensors"), std::string::npos) << err_;
  EXPECT_NE(run("--input " + path("x.safetensors") + " --output " + path("y.safetensors") +
                " --min -1 --max 1 --bitwidth 33 --scheme asymmetric"),
            0);
  EXPECT_NE(err_.find("got 33"), std::string::npos) << err_;
  EXPECT_NE(run("--input " + path("x.safetensors") + " --output " + path("y.safetensors") +
                " --min -1 --max 1 --scheme asymmetric --grad " + path("x.safetensors")),
            0);
  EXPECT_NE(err_.find("--grad needs --grid learned"), std::string::npos) << err_;
  EXPECT_NE(run("--input " + path("x.safetensors") + " --output " + path("y.safetensors") +
                " --min=-1,-1 --max=1,1 --axis 0 --scheme asymmetric"),
            0);
  EXPECT_NE(err_.find("2 encodings for 4 channels"), std::string::npos) << err_;
}

}  // namespace
}  // namespace qsim::quant
