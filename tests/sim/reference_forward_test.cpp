// Quantized-mode outputs of a tiny BERT against an independent reference: the BERT
// forward written with plain ATen ops (reference_bert.hpp), fake-quantizing by hand
// (qsim::quant's functional ops) at exactly the points of semantics §7.5, with the
// sim's encodings.

#include <gtest/gtest.h>

#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "reference_bert.hpp"

namespace qsim::sim {
namespace {

// The quantizer `name` applied by hand (identity when the sim has it off).
test::ReferenceBert::Quantize hand_quantizer(const QuantSim& sim) {
  return [&sim](const std::string& name, const torch::Tensor& x) {
    const QuantizerSlot& s = sim.slot(name);
    if (!s.active || !at::isFloatingType(x.scalar_type())) return x;
    const quant::QuantizerOptions& o = s.node->options;
    if (o.grid() == quant::Grid::learned_grid) {
      quant::RangeLearningOptions rl;
      rl.bitwidth = o.bitwidth();
      rl.symmetry = o.symmetry();
      return quant::range_learning_quantize(x, s.node->encoding_min.detach(), s.node->encoding_max.detach(), rl);
    }
    return quant::fake_quantize_static(x, s.node->encodings(), o.channel_axis());
  };
}

class ReferenceForwardTest : public ::testing::TestWithParam<QuantScheme> {};

TEST_P(ReferenceForwardTest, QuantizedLogitsMatchHandBuiltReference) {
  for (const char* profile : {"std002", "sharp"}) {
    auto model = test::load_tiny(profile, "seqcls3");
    const test::Batch batch = test::load_batch(profile);
    QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(GetParam()));
    sim.compute_encodings([&](torch::nn::Module&) { model(batch.input_ids, batch.token_type_ids, batch.attention_mask); });
    torch::NoGradGuard no_grad;
    const torch::Tensor got = model(batch.input_ids, batch.token_type_ids, batch.attention_mask).logits;
    const torch::Tensor expected = test::ReferenceBert(model->config, test::model_params(model), hand_quantizer(sim)).logits(batch);
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
