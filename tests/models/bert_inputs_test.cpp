// Forward-pass input validation, defaults, masks and train/eval behaviour.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/bert_test_util.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/nn/thread_invariant_matmul.hpp"
#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace {

using namespace qsim;
using namespace qsim::models::bert;

class BertInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(5);
    model_ = BertForTask(test::small_config(BertHead::sequence_classification));
    model_->eval();
  }
  torch::Tensor ids(int64_t batch, int64_t length) const {
    return torch::randint(1, model_->config.vocab_size, {batch, length}, torch::kLong);
  }
  BertForTask model_{nullptr};
  torch::NoGradGuard no_grad_;
};

TEST_F(BertInputsTest, RejectsOutOfVocabularyIds) {
  torch::Tensor bad = ids(2, 4);
  bad[1][2] = model_->config.vocab_size;
  QSIM_EXPECT_THROW_MSG(model_(bad), ValueError, {"'input_ids'", "[0, 50)", "vocab_size", "50"});
  bad[1][2] = -1;
  QSIM_EXPECT_THROW_MSG(model_(bad), ValueError, {"'input_ids'", "-1"});
  QSIM_EXPECT_THROW_MSG(model_(ids(2, 4), torch::full({2, 4}, 2, torch::kLong)), ValueError,
                        {"'token_type_ids'", "type_vocab_size"});
}

TEST_F(BertInputsTest, RejectsMismatchedShapesAndDtypes) {
  QSIM_EXPECT_THROW_MSG(model_(ids(2, 4), torch::zeros({2, 5}, torch::kLong)), ValueError,
                        {"'token_type_ids'", "[2, 5]", "[2, 4]"});
  QSIM_EXPECT_THROW_MSG(model_(ids(2, 4), torch::Tensor(), torch::ones({3, 4}, torch::kLong)), ValueError,
                        {"'attention_mask'", "[3, 4]", "[2, 4]"});
  QSIM_EXPECT_THROW_MSG(model_(ids(2, 4).to(torch::kFloat)), ValueError, {"'input_ids'", "integer", "Float"});
  QSIM_EXPECT_THROW_MSG(model_(ids(2, 4).flatten()), ValueError, {"'input_ids'", "[batch, seq]", "[8]"});
  QSIM_EXPECT_THROW_MSG(model_(ids(1, model_->config.max_position_embeddings + 1)), ValueError,
                        {"'input_ids'", "17", "max_position_embeddings 16"});
}

TEST_F(BertInputsTest, DefaultsAreZeroTypesAndAFullMask) {
  const torch::Tensor x = ids(2, 6);
  const auto implicit = model_(x);
  const auto explicit_ = model_(x, torch::zeros({2, 6}, torch::kLong), torch::ones({2, 6}, torch::kLong));
  EXPECT_TRUE(torch::equal(implicit.logits, explicit_.logits));
  EXPECT_EQ(implicit.logits.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(implicit.bert.pooler_output.sizes(), (std::vector<int64_t>{2, 12}));
  // int32 ids give the same result as int64.
  EXPECT_TRUE(torch::equal(model_(x.to(torch::kInt)).logits, implicit.logits));
}

TEST_F(BertInputsTest, MaskedKeysDoNotChangeUnpaddedRowsUnderHfButDoUnderZoo) {
  // Row 0 is the real sequence; row 1 the same tokens with two padded extra keys.
  const torch::Tensor real = ids(1, 4);
  const torch::Tensor padded = torch::cat({real, ids(1, 2)}, 1);
  const torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 0, 0}}, torch::kLong);
  const auto alone = model_(real).bert.last_hidden_state;
  const auto hf = model_(padded, torch::Tensor(), mask).bert.last_hidden_state.narrow(1, 0, 4);
  EXPECT_LE((hf - alone).abs().max().item<double>(), 1e-5);
  model_->bert->set_attention_mask(AttentionMask::zoo());
  const auto zoo = model_(padded, torch::Tensor(), mask).bert.last_hidden_state.narrow(1, 0, 4);
  EXPECT_GT((zoo - alone).abs().max().item<double>(), 1e-5);  // −6 still lets masked keys in
  model_->bert->set_attention_mask(AttentionMask::custom(-1e9));
  const auto hard = model_(padded, torch::Tensor(), mask).bert.last_hidden_state.narrow(1, 0, 4);
  EXPECT_LE((hard - alone).abs().max().item<double>(), 1e-5);
}

TEST_F(BertInputsTest, DropoutIsActiveOnlyInTrain) {
  const torch::Tensor x = ids(2, 6);
  const auto a = model_(x).logits;
  EXPECT_TRUE(torch::equal(a, model_(x).logits));
  model_->train();
  EXPECT_FALSE(torch::equal(model_(x).bert.last_hidden_state, model_(x).bert.last_hidden_state));
}

TEST_F(BertInputsTest, RegressionHeadHasOneOutput) {
  BertForTask stsb(test::small_config(BertHead::sequence_classification, 1));
  stsb->eval();
  EXPECT_TRUE(stsb->config.is_regression());
  EXPECT_EQ(stsb(ids(3, 5)).logits.sizes(), (std::vector<int64_t>{3, 1}));
}

TEST_F(BertInputsTest, QuestionAnsweringSplitsStartAndEnd) {
  BertForTask qa(test::small_config(BertHead::question_answering));
  qa->eval();
  const torch::Tensor x = ids(2, 5);
  const auto out = qa(x);
  EXPECT_FALSE(out.logits.defined());
  EXPECT_EQ(out.start_logits.sizes(), (std::vector<int64_t>{2, 5}));
  // The head's own product (thread-invariant blocks: not at::linear's bits).
  const torch::Tensor both =
      nn::thread_invariant_linear(out.bert.last_hidden_state, qa->qa_outputs->weight, qa->qa_outputs->bias);
  EXPECT_TRUE(torch::equal(out.start_logits, both.select(-1, 0)));
  EXPECT_TRUE(torch::equal(out.end_logits, both.select(-1, 1)));
}

}  // namespace
