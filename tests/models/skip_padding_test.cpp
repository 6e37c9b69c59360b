// BertModelImpl::skip_padding (packed real tokens, per-sequence attention): real
// tokens' outputs equal the padded graph's within float summation order, padded
// positions are zero, and every case it does not cover runs the padded graph
// bit for bit (autograd, an enabled quantizer, a soft mask, a padded first token)
// or is refused (zoo / custom masks).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/models/bert/packed_sequences.hpp"
#include "qsim/quant/encoding.hpp"

namespace qsim::models::bert {
namespace {

BertConfig small_config(const char* architecture) {
  nlohmann::json json = {{"vocab_size", 97},       {"hidden_size", 48},      {"num_hidden_layers", 3},
                         {"num_attention_heads", 4}, {"intermediate_size", 80}, {"max_position_embeddings", 64},
                         {"architectures", {architecture}}};
  return BertConfig::from_json(json, "skip_padding_test");
}

struct Batch {
  torch::Tensor ids, types, mask;
};

// Right padding of several lengths, one full row, one row with holes (padding
// inside the sequence), and a one-token row.
Batch batch() {
  torch::manual_seed(5);
  const int64_t seq = 19;
  Batch b{torch::randint(1, 97, {5, seq}, torch::kLong), torch::zeros({5, seq}, torch::kLong),
          torch::ones({5, seq}, torch::kLong)};
  b.types.narrow(1, 9, seq - 9).fill_(1);
  b.mask[1].narrow(0, 11, seq - 11).zero_();
  b.mask[2].narrow(0, 4, 3).zero_();
  b.mask[2][seq - 1] = 0;
  b.mask[3].narrow(0, 1, seq - 1).zero_();
  b.mask[4].narrow(0, 15, seq - 15).zero_();
  return b;
}

BertForTask eval_model(const char* architecture) {
  torch::manual_seed(9);
  BertForTask model(small_config(architecture));
  model->eval();
  return model;
}

BertModelOutput run(BertForTask& model, const Batch& b, bool skip) {
  model->bert->skip_padding = skip;
  return model->bert(b.ids, b.types, b.mask);
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(PackedSequencesTest, PacksTheRealTokensAndUnpacksWithZeros) {
  const auto packed = PackedSequences::from_mask(torch::tensor({1, 1, 0, 1, 0, 1}).view({2, 3}));
  ASSERT_TRUE(packed);
  EXPECT_TRUE(torch::equal(packed->index, torch::tensor({0, 1, 3, 5}, torch::kLong)));
  EXPECT_EQ(packed->lengths, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(packed->tokens(), 4);
  const torch::Tensor padded = torch::arange(12, torch::kFloat).view({2, 3, 2});
  const torch::Tensor rows = packed->pack(padded);
  EXPECT_TRUE(torch::equal(rows, torch::tensor({0.f, 1.f, 2.f, 3.f, 6.f, 7.f, 10.f, 11.f}).view({1, 4, 2})));
  const torch::Tensor back = packed->unpack(rows);
  EXPECT_TRUE(torch::equal(back, padded * torch::tensor({1.f, 1.f, 0.f, 1.f, 0.f, 1.f}).view({2, 3, 1})));
  EXPECT_THROW(packed->unpack(rows.narrow(1, 0, 3)), ValueError);
  EXPECT_FALSE(PackedSequences::from_mask(torch::tensor({1.0, 0.5}).view({1, 2})));
}

TEST(SkipPaddingTest, RealTokensMatchThePaddedGraphAndPaddingIsZero) {
  torch::NoGradGuard no_grad;
  for (const char* architecture : {"BertForSequenceClassification", "BertForQuestionAnswering"}) {
    SCOPED_TRACE(architecture);
    auto model = eval_model(architecture);
    const Batch b = batch();
    const auto padded = run(model, b, false);
    const auto packed = run(model, b, true);
    const torch::Tensor real = b.mask.to(torch::kBool).unsqueeze(-1).expand_as(padded.last_hidden_state);
    EXPECT_LE(max_diff(packed.last_hidden_state.masked_select(real), padded.last_hidden_state.masked_select(real)), 2e-5);
    EXPECT_EQ(packed.last_hidden_state.masked_select(real.logical_not()).abs().max().item<float>(), 0.0f);
    EXPECT_GT(padded.last_hidden_state.masked_select(real.logical_not()).abs().max().item<float>(), 0.0f);
    if (padded.pooler_output.defined()) {
      EXPECT_LE(max_diff(packed.pooler_output, padded.pooler_output), 2e-5);
    }
    // The task head on top.
    model->bert->skip_padding = true;
    const auto head = model(b.ids, b.types, b.mask);
    model->bert->skip_padding = false;
    const auto reference = model(b.ids, b.types, b.mask);
    if (reference.logits.defined()) {
      EXPECT_LE(max_diff(head.logits, reference.logits), 2e-5);
    } else {
      const torch::Tensor tokens = b.mask.to(torch::kBool);
      EXPECT_LE(max_diff(head.start_logits.masked_select(tokens), reference.start_logits.masked_select(tokens)), 2e-5);
      EXPECT_LE(max_diff(head.end_logits.masked_select(tokens), reference.end_logits.masked_select(tokens)), 2e-5);
    }
  }
}

// The padded graph ran: bit-identical to skip_padding off.
void expect_padded_graph(BertForTask& model, const Batch& b) {
  const auto off = run(model, b, false);
  const auto on = run(model, b, true);
  EXPECT_TRUE(torch::equal(on.last_hidden_state, off.last_hidden_state));
}

TEST(SkipPaddingTest, RunsThePaddedGraphWhereSkippingIsNotExact) {
  auto model = eval_model("BertForSequenceClassification");
  {
    SCOPED_TRACE("autograd");
    expect_padded_graph(model, batch());
  }
  torch::NoGradGuard no_grad;
  {
    SCOPED_TRACE("first token padded");
    Batch b = batch();
    b.mask[0][0] = 0;
    expect_padded_graph(model, b);
  }
  {
    SCOPED_TRACE("soft mask");
    Batch b = batch();
    b.mask = b.mask.to(torch::kFloat) * 0.5 + 0.5;
    expect_padded_graph(model, b);
  }
  {
    SCOPED_TRACE("an enabled quantizer");
    auto node = model->bert->encoder->at(1)->intermediate->dense->output_quantizer;
    node->options.enabled(true);
    node->set_encoding(quant::make_encoding(-3.0, 3.0, 8, quant::Symmetry::asymmetric));
    expect_padded_graph(model, batch());
    node->options.enabled(false);
  }
  {
    SCOPED_TRACE("hidden states asked for");
    Batch b = batch();
    model->bert->skip_padding = true;
    const auto on = model->bert(b.ids, b.types, b.mask, BertForwardOptions{true, false});
    model->bert->skip_padding = false;
    const auto off = model->bert(b.ids, b.types, b.mask, BertForwardOptions{true, false});
    EXPECT_TRUE(torch::equal(on.last_hidden_state, off.last_hidden_state));
  }
}

TEST(SkipPaddingTest, RefusesMasksThatWeightPaddedKeys) {
  torch::NoGradGuard no_grad;
  auto model = eval_model("BertForSequenceClassification");
  const Batch b = batch();
  for (const AttentionMask& mask : {AttentionMask::zoo(), AttentionMask::custom(-20.0)}) {
    model->bert->set_attention_mask(mask);
    model->bert->skip_padding = true;
    try {
      model->bert(b.ids, b.types, b.mask);
      ADD_FAILURE() << "expected ConfigError";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("skip_padding"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace qsim::models::bert
