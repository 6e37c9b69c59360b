// QAT keeping recipes instead of quantized operands (qsim/quant/recipe.hpp): the
// same losses and gradients — weights, biases, LayerNorm parameters and every
// learned range — bit for bit as the plain graph, on the golden tiny models, with
// mixed precision and embedding groups too; and recipes really replace operands.

#include <map>

#include <gtest/gtest.h>

#include "qsim/models/bert/quantizer_patterns.hpp"
#include "qsim/quant/recipe.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

std::map<std::string, torch::Tensor> gradients(const char* profile, const char* head, const SimOptions& options,
                                               bool recipes, int64_t& kept) {
  auto model = test::load_tiny(profile, head);
  const test::Batch b = test::load_batch(profile);
  QuantSim sim(model, QuantSimConfig::aimet_default(), options);
  sim.compute_encodings([&](torch::nn::Module&) { model(b.input_ids, b.token_type_ids, b.attention_mask); });
  model->train();  // dropout is off in the fixtures' configs only through p; QAT runs it at 0 anyway
  for (auto& m : model->modules()) {
    if (auto* d = dynamic_cast<nn::DropoutImpl*>(m.get())) d->options.p(0.0);
  }
  const quant::RecipesGuard guard(recipes);
  const int64_t before = quant::recipes_kept();
  const auto out = model(b.input_ids, b.token_type_ids, b.attention_mask);
  const torch::Tensor loss = out.logits.defined() ? out.logits.pow(2).sum() : (out.start_logits - out.end_logits).pow(2).sum();
  loss.backward();
  kept = quant::recipes_kept() - before;
  std::map<std::string, torch::Tensor> grads{{"loss", loss.detach()}};
  for (const auto& p : model->named_parameters()) {
    if (p.value().grad().defined()) grads[p.key()] = p.value().grad().clone();
  }
  return grads;
}

TEST(RecipesTest, QatGradientsAreBitIdenticalWithAndWithoutRecipes) {
  const SimOptions base = SimOptions().scheme(QuantScheme::tf_range_learning);
  const SimOptions fixes = SimOptions(base)
                               .bitwidth_overrides({{R"(output\.dense\.output)", 16}})
                               .embedding_groups({{models::bert::kFfnResidualQuantizers, 3, true}});
  for (const char* profile : {"sharp", "std002"}) {
    for (const char* head : {"seqcls2", "qa"}) {
      for (const SimOptions& options : {base, fixes}) {
        SCOPED_TRACE(testing::Message() << profile << " " << head << (options.embedding_groups().empty() ? "" : " +MP +PEG"));
        int64_t kept_on = 0, kept_off = 0;
        const auto with = gradients(profile, head, options, true, kept_on);
        const auto without = gradients(profile, head, options, false, kept_off);
        EXPECT_EQ(kept_off, 0);
        EXPECT_GT(kept_on, 20) << "recipes should replace the quantized operands of most ops";
        ASSERT_EQ(with.size(), without.size());
        size_t ranges = 0;
        for (const auto& [name, g] : without) {
          ASSERT_TRUE(with.count(name)) << name;
          ranges += name.find("encoding_") != std::string::npos ? 1 : 0;
          EXPECT_TRUE(torch::equal(with.at(name), g)) << name << ": max diff "
                                                      << (with.at(name) - g).abs().max().item<double>();
        }
        EXPECT_GT(ranges, 20u);
      }
    }
  }
}

}  // namespace
}  // namespace qsim::sim
