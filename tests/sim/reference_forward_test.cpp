// Quantized-mode outputs of a tiny BERT against an independent reference: the BERT
// forward written with plain ATen ops, fake-quantizing by hand (qsim::quant's
// functional ops) at exactly the points of semantics §7.5, with the sim's encodings.

#include <cmath>

#include <gtest/gtest.h>

#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

class Reference {
 public:
  Reference(const QuantSim& sim, models::bert::BertForTask& model) : sim_(sim) {
    for (const auto& item : model->named_parameters()) params_[item.key()] = item.value().detach();
    config_ = model->config;
  }

  // The quantizer `name` applied by hand (identity when the sim has it off).
  torch::Tensor q(const std::string& name, const torch::Tensor& x) const {
    const QuantizerSlot& s = sim_.slot(name);
    if (!s.active || !at::isFloatingType(x.scalar_type())) return x;
    const quant::QuantizerOptions& o = s.node->options;
    if (o.grid() == quant::Grid::learned_grid) {
      quant::RangeLearningOptions rl;
      rl.bitwidth = o.bitwidth();
      rl.symmetry = o.symmetry();
      return quant::range_learning_quantize(x, s.node->encoding_min.detach(), s.node->encoding_max.detach(), rl);
    }
    return quant::fake_quantize_static(x, s.node->encodings(), o.channel_axis());
  }
  torch::Tensor out(const std::string& block, const torch::Tensor& x) const { return q(block + ".output_quantizer", x); }
  torch::Tensor w(const std::string& block) const {
    return q(block + ".weight_quantizer", params_.at(block + ".weight"));
  }
  torch::Tensor b(const std::string& block) const { return params_.at(block + ".bias"); }
  torch::Tensor linear(const std::string& block, const torch::Tensor& x) const {
    return out(block, at::linear(x, w(block), b(block)));
  }
  torch::Tensor norm(const std::string& block, const torch::Tensor& x) const {
    return out(block, at::layer_norm(x, {config_.hidden_size}, w(block), b(block), config_.layer_norm_eps));
  }

  torch::Tensor logits(const test::Batch& batch) const {
    const std::string e = "bert.embeddings.";
    const int64_t length = batch.input_ids.size(1);
    const torch::Tensor words = out(e + "word_embeddings", at::embedding(w(e + "word_embeddings"), batch.input_ids));
    const torch::Tensor types =
        out(e + "token_type_embeddings", at::embedding(w(e + "token_type_embeddings"), batch.token_type_ids));
    const torch::Tensor positions =
        out(e + "position_embeddings",
            at::embedding(w(e + "position_embeddings"), torch::arange(length, torch::kLong).unsqueeze(0)));
    torch::Tensor h = out(e + "add_2", out(e + "add_1", words + types) + positions);
    h = out(e + "dropout", norm(e + "LayerNorm", h));
    // The zoo mask: le((1 − mask)·−10000, −1)·−6, an int64 [B, 1, 1, L].
    const torch::Tensor extended = (1.0 - batch.attention_mask.to(torch::kFloat)) * -10000.0;
    const torch::Tensor mask = at::le(extended, -1).to(torch::kLong).mul(-6).unsqueeze(1).unsqueeze(2);
    for (int64_t i = 0; i < config_.num_hidden_layers; ++i) h = layer("bert.encoder.layer." + std::to_string(i) + ".", h, mask);
    const torch::Tensor pooled =
        out("bert.pooler.activation", at::tanh(linear("bert.pooler.dense", h.select(1, 0))));
    return linear("classifier", out("dropout", pooled));
  }

 private:
  torch::Tensor layer(const std::string& l, const torch::Tensor& h, const torch::Tensor& mask) const {
    const std::string s = l + "attention.self.";
    const int64_t heads = config_.num_attention_heads, d = config_.head_size();
    const auto split = [&](const torch::Tensor& x) { return x.view({x.size(0), x.size(1), heads, d}).permute({0, 2, 1, 3}); };
    const torch::Tensor qh = split(linear(s + "query", h));
    const torch::Tensor kh = split(linear(s + "key", h));
    const torch::Tensor vh = split(linear(s + "value", h));
    torch::Tensor scores = out(s + "matmul_1", at::matmul(qh, kh.transpose(-1, -2))) / std::sqrt(static_cast<double>(d));
    scores = out(s + "mask_add", q(s + "mask_add.input_quantizers.0", scores) + q(s + "mask_add.input_quantizers.1", mask));
    const torch::Tensor probs = out(s + "dropout", out(s + "softmax", at::softmax(scores, -1)));
    const torch::Tensor context = out(s + "matmul_2", at::matmul(probs, vh))
                                      .permute({0, 2, 1, 3})
                                      .reshape({h.size(0), h.size(1), config_.hidden_size});
    const std::string a = l + "attention.output.";
    const torch::Tensor attended =
        norm(a + "LayerNorm", out(a + "add", out(a + "dropout", linear(a + "dense", context)) + h));
    const torch::Tensor inner =
        out(l + "intermediate.intermediate_act_fn", at::gelu(linear(l + "intermediate.dense", attended)));
    const std::string o = l + "output.";
    return norm(o + "LayerNorm", out(o + "add", out(o + "dropout", linear(o + "dense", inner)) + attended));
  }

  const QuantSim& sim_;
  std::unordered_map<std::string, torch::Tensor> params_;
  models::bert::BertConfig config_;
};

class ReferenceForwardTest : public ::testing::TestWithParam<QuantScheme> {};

TEST_P(ReferenceForwardTest, QuantizedLogitsMatchHandBuiltReference) {
  for (const char* profile : {"std002", "sharp"}) {
    auto model = test::load_tiny(profile, "seqcls3");
    const test::Batch batch = test::load_batch(profile);
    QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(GetParam()));
    sim.compute_encodings([&](torch::nn::Module&) { model(batch.input_ids, batch.token_type_ids, batch.attention_mask); });
    torch::NoGradGuard no_grad;
    const torch::Tensor got = model(batch.input_ids, batch.token_type_ids, batch.attention_mask).logits;
    const torch::Tensor expected = Reference(sim, model).logits(batch);
    EXPECT_LE((got - expected).abs().max().item<double>(), 1e-5) << profile;
    // The reference is not trivially the FP32 model.
    sim.set_mode(Mode::fp32);
    const torch::Tensor fp32 = model(batch.input_ids, batch.token_type_ids, batch.attention_mask).logits;
    EXPECT_GT((fp32 - expected).abs().max().item<double>(), 1e-4) << profile;
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, ReferenceForwardTest,
                         ::testing::Values(QuantScheme::tf, QuantScheme::tf_enhanced, QuantScheme::tf_range_learning),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace qsim::sim
