// The quantizer slots of a 2-layer BERT, in forward order, against the table of
// quantization-semantics.md §7.5 (zoo graph, default config): names, per-layer counts
// (19 activation incl. mask_add input 0, 8 parameter), embeddings and heads.
// Forward order is recorded through each QuantizerNode's observer, which an enabled
// node on the static grid without an encoding calls and then passes its input on.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/bert_test_util.hpp"
#include "qsim/models/bert/bert_for_task.hpp"

namespace {

using namespace qsim;
using namespace qsim::models::bert;

struct Recorder {
  std::vector<std::string> calls;  // every slot call, in order
  std::set<std::string> slots;     // every slot that exists
};

Recorder record_forward(BertForTask& model) {
  Recorder recorder;
  for (const auto& item : model->named_modules("", false)) {
    if (auto* node = dynamic_cast<quant::QuantizerNodeImpl*>(item.value().get())) {
      const std::string name = item.key();
      recorder.slots.insert(name);
      node->set_enabled(true);
      node->set_observer([&recorder, name](const torch::Tensor&) { recorder.calls.push_back(name); });
    }
  }
  model->eval();
  const torch::Tensor ids = torch::randint(0, model->config.vocab_size, {2, 5}, torch::kLong);
  const torch::Tensor types = torch::zeros({2, 5}, torch::kLong);
  const torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}, torch::kLong);
  model(ids, types, mask);
  return recorder;
}

// The §7.5 slots: W = weight_quantizer, A = output_quantizer, plus mask_add input 0.
bool in_table(const std::string& slot) {
  const auto ends = [&](const std::string& s) {
    return slot.size() >= s.size() && slot.compare(slot.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".weight_quantizer") || ends(".output_quantizer") || ends("mask_add.input_quantizers.0");
}

std::vector<std::string> w_a(const std::string& module) {
  return {module + ".weight_quantizer", module + ".output_quantizer"};
}

std::vector<std::string> expected_embeddings() {
  std::vector<std::string> out;
  const std::string e = "bert.embeddings.";
  for (const auto& part : {w_a(e + "word_embeddings"), w_a(e + "token_type_embeddings"),
                           std::vector<std::string>{e + "add_1.output_quantizer"}, w_a(e + "position_embeddings"),
                           std::vector<std::string>{e + "add_2.output_quantizer"}, w_a(e + "LayerNorm"),
                           std::vector<std::string>{e + "dropout.output_quantizer"}})
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

std::vector<std::string> expected_layer(int i) {
  const std::string l = "bert.encoder.layer." + std::to_string(i) + ".";
  const std::string s = l + "attention.self.";
  const auto a = [](const std::string& m) { return std::vector<std::string>{m + ".output_quantizer"}; };
  std::vector<std::vector<std::string>> rows = {
      w_a(s + "query"), w_a(s + "key"), w_a(s + "value"), a(s + "matmul_1"),
      {s + "mask_add.input_quantizers.0"}, a(s + "mask_add"), a(s + "softmax"), a(s + "dropout"), a(s + "matmul_2"),
      w_a(l + "attention.output.dense"), a(l + "attention.output.dropout"), a(l + "attention.output.add"),
      w_a(l + "attention.output.LayerNorm"), w_a(l + "intermediate.dense"), a(l + "intermediate.intermediate_act_fn"),
      w_a(l + "output.dense"), a(l + "output.dropout"), a(l + "output.add"), w_a(l + "output.LayerNorm")};
  std::vector<std::string> out;
  for (const auto& row : rows) out.insert(out.end(), row.begin(), row.end());
  return out;
}

std::vector<std::string> table_calls(const Recorder& recorder) {
  std::vector<std::string> out;
  for (const auto& call : recorder.calls)
    if (in_table(call)) out.push_back(call);
  return out;
}

void expect_layer_counts(const std::vector<std::string>& calls, int layers) {
  for (int i = 0; i < layers; ++i) {
    const std::string prefix = "bert.encoder.layer." + std::to_string(i) + ".";
    int activations = 0;
    int params = 0;
    for (const auto& call : calls) {
      if (call.rfind(prefix, 0) != 0) continue;
      if (call.find(".weight_quantizer") != std::string::npos) {
        ++params;
      } else {
        ++activations;
      }
    }
    EXPECT_EQ(activations, 19) << "layer " << i;
    EXPECT_EQ(params, 8) << "layer " << i;
  }
}

TEST(BertQuantizerSlotsTest, SequenceClassificationMatchesTheZooTable) {
  BertConfig config = test::small_config(BertHead::sequence_classification, 3);
  config.attention_mask = AttentionMask::zoo();
  BertForTask model(config);
  const Recorder recorder = record_forward(model);

  std::vector<std::string> expected = expected_embeddings();
  for (int i = 0; i < 2; ++i) {
    const auto layer = expected_layer(i);
    expected.insert(expected.end(), layer.begin(), layer.end());
  }
  for (const auto& part : {w_a("bert.pooler.dense"), std::vector<std::string>{"bert.pooler.activation.output_quantizer",
                                                                               "dropout.output_quantizer"},
                           w_a("classifier")})
    expected.insert(expected.end(), part.begin(), part.end());

  const auto calls = table_calls(recorder);
  EXPECT_EQ(calls, expected);
  expect_layer_counts(calls, 2);
  // Every slot exists under its dotted path and is called exactly once.
  for (const auto& name : expected) EXPECT_EQ(recorder.slots.count(name), 1u) << name;
  std::map<std::string, int> count;
  for (const auto& call : recorder.calls) ++count[call];
  for (const auto& [name, n] : count) EXPECT_EQ(n, 1) << name;
  // No dead modules: the only silent slots are those fed integers (ids, the zoo mask).
  std::set<std::string> silent;
  for (const auto& slot : recorder.slots)
    if (count.count(slot) == 0) silent.insert(slot);
  EXPECT_EQ(silent, (std::set<std::string>{"bert.embeddings.word_embeddings.input_quantizers.0",
                                           "bert.embeddings.position_embeddings.input_quantizers.0",
                                           "bert.embeddings.token_type_embeddings.input_quantizers.0",
                                           "bert.encoder.layer.0.attention.self.mask_add.input_quantizers.1",
                                           "bert.encoder.layer.1.attention.self.mask_add.input_quantizers.1"}));
}

TEST(BertQuantizerSlotsTest, QuestionAnsweringHasNoPoolerAndOneOutputSlot) {
  BertForTask model(test::small_config(BertHead::question_answering));
  const Recorder recorder = record_forward(model);
  const auto calls = table_calls(recorder);
  std::vector<std::string> expected = expected_embeddings();
  for (int i = 0; i < 2; ++i) {
    const auto layer = expected_layer(i);
    expected.insert(expected.end(), layer.begin(), layer.end());
  }
  const auto head = w_a("qa_outputs");
  expected.insert(expected.end(), head.begin(), head.end());
  EXPECT_EQ(calls, expected);
  for (const auto& slot : recorder.slots) EXPECT_EQ(slot.find("pooler"), std::string::npos) << slot;
}

TEST(BertQuantizerSlotsTest, FloatMaskReachesMaskAddInputOneInHfMode) {
  BertForTask model(test::small_config(BertHead::none));
  const Recorder recorder = record_forward(model);
  int mask_inputs = 0;
  for (const auto& call : recorder.calls)
    if (call.find("mask_add.input_quantizers.1") != std::string::npos) ++mask_inputs;
  EXPECT_EQ(mask_inputs, 2);
}

}  // namespace
