// SimOptions::cache_quantized_weights: inference quantizes each weight once and
// reuses it, bit-identically, until the weight or its encoding changes.

#include <gtest/gtest.h>

#include "qsim/sim/quant_sim.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

torch::Tensor logits(models::bert::BertForTask& model, const test::Batch& b) {
  torch::NoGradGuard no_grad;
  return model(b.input_ids, b.token_type_ids, b.attention_mask).logits;
}

TEST(WeightCacheTest, CachedAndUncachedSimulationsAgreeBitForBit) {
  const test::Batch b = test::load_batch("sharp");
  for (const QuantScheme scheme : {QuantScheme::tf, QuantScheme::tf_range_learning}) {
    SCOPED_TRACE(to_string(scheme));
    auto cached_model = test::load_tiny("sharp", "seqcls2");
    auto plain_model = test::load_tiny("sharp", "seqcls2");
    QuantSim cached(cached_model, QuantSimConfig::aimet_default(), SimOptions().scheme(scheme));
    QuantSim plain(plain_model, QuantSimConfig::aimet_default(),
                   SimOptions().scheme(scheme).cache_quantized_weights(false));
    for (auto* pair : {&cached, &plain}) {
      auto& model = pair == &cached ? cached_model : plain_model;
      pair->compute_encodings([&](torch::nn::Module&) { model(b.input_ids, b.token_type_ids, b.attention_mask); });
      pair->set_mode(Mode::quantized);
    }
    const QuantizerSlot& w = cached.slot("bert.encoder.layer.0.attention.self.query.weight_quantizer");
    EXPECT_TRUE(w.node->caches_output());
    EXPECT_FALSE(plain.slot(w.name).node->caches_output());
    EXPECT_TRUE(torch::equal(logits(cached_model, b), logits(plain_model, b)));
    const torch::Tensor weight = cached_model->bert->encoder->at(0)->attention->self->query->weight;
    {
      torch::NoGradGuard no_grad;
      EXPECT_TRUE(w.node->has_cached_output_for(weight)) << "the first forward filled the cache";
    }
    EXPECT_TRUE(torch::equal(logits(cached_model, b), logits(plain_model, b))) << "second forward, from the cache";

    // A training step on both (same update): the cache must not serve the old weights.
    for (auto* m : {&cached_model, &plain_model}) {
      torch::NoGradGuard no_grad;
      for (auto& p : (*m)->parameters()) p.mul_(1.01);
    }
    {
      torch::NoGradGuard no_grad;
      EXPECT_FALSE(w.node->has_cached_output_for(weight));
    }
    EXPECT_TRUE(torch::equal(logits(cached_model, b), logits(plain_model, b))) << "after the weights moved";
    cached.set_mode(Mode::fp32);
    {
      torch::NoGradGuard no_grad;
      EXPECT_FALSE(w.node->has_cached_output_for(weight)) << "a mode change frees the copies";
    }
  }
}

}  // namespace
}  // namespace qsim::sim
