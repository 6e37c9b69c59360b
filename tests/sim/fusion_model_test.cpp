// Whole golden models with fused quantizers against the unfused path: the same
// logits bit for bit in every mode and scheme, with mixed precision and embedding
// groups too. The fused run must really fuse (the fusion counter moves).

#include <gtest/gtest.h>

#include "qsim/models/bert/quantizer_patterns.hpp"
#include "qsim/quant/prepared_fake_quant.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

torch::Tensor outputs(models::bert::BertForTask& model, const test::Batch& b) {
  torch::NoGradGuard no_grad;
  const auto out = model(b.input_ids, b.token_type_ids, b.attention_mask);
  return out.logits.defined() ? out.logits : torch::cat({out.start_logits, out.end_logits});
}

TEST(FusionModelTest, FusedAndUnfusedModelsAgreeBitForBit) {
  const SimOptions extras = SimOptions()
                                .bitwidth_overrides({{R"(output\.dense\.output)", 16}})
                                .embedding_groups({{models::bert::kFfnResidualQuantizers, 4, true}});
  for (const char* profile : {"sharp", "std002"}) {
    for (const char* head : {"seqcls2", "qa"}) {
      const test::Batch b = test::load_batch(profile);
      for (const QuantScheme scheme : {QuantScheme::tf, QuantScheme::tf_enhanced, QuantScheme::tf_range_learning}) {
        for (const bool paper_fixes : {false, true}) {
          SCOPED_TRACE(testing::Message() << profile << " " << head << " " << to_string(scheme)
                                          << (paper_fixes ? " +MP +PEG" : ""));
          auto model = test::load_tiny(profile, head);
          SimOptions options = paper_fixes ? extras : SimOptions();
          QuantSim sim(model, QuantSimConfig::aimet_default(), options.scheme(scheme));
          sim.compute_encodings([&](torch::nn::Module&) { model(b.input_ids, b.token_type_ids, b.attention_mask); });
          for (const Mode mode : {Mode::quantized, Mode::range_learning}) {
            if (mode == Mode::range_learning && !is_range_learning(scheme)) continue;
            sim.set_mode(mode);
            torch::Tensor unfused;
            {
              const quant::FusionGuard off(false);
              unfused = outputs(model, b);
            }
            const int64_t before = quant::fused_quantizer_count();
            const torch::Tensor fused = outputs(model, b);
            EXPECT_GT(quant::fused_quantizer_count() - before, 10) << to_string(mode);
            EXPECT_TRUE(torch::equal(fused, unfused)) << to_string(mode);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace qsim::sim
