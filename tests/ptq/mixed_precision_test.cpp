// Automatic mixed precision (qsim/ptq/mixed_precision.hpp) on a golden tiny BERT:
//  * the phase-2 list falls monotonically in BitOps and starts at the baseline;
//  * the choice is the cheapest point within the allowed drop, and the overrides it
//    returns rebuild exactly that configuration in a fresh simulation;
//  * a rerun with the score cache evaluates nothing and chooses the same;
//  * bad candidates and drops are ConfigErrors.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/ptq/mixed_precision.hpp"
#include "qsim/ptq/output_sqnr.hpp"
#include "sim/tiny_bert.hpp"
#include "tiny_data.hpp"
#include "support/expect_error.hpp"
#include "support/scratch_dir.hpp"

namespace qsim::ptq {
namespace {

using sim::QuantSim;
using sim::QuantSimConfig;
using sim::SimOptions;

struct TinyAmp {
  models::bert::BertForTask model = test::load_tiny("std002", "seqcls2");
  test::Batch batch = test::load_batch("std002");
  train::TaskDataset data = test::dataset_of(batch);
  OutputSqnr sqnr{data, 100, 2};
  std::function<void(torch::nn::Module&)> calibrate;
  std::function<double(torch::nn::Module&)> score;

  TinyAmp() {
    sqnr.set_reference(model);
    calibrate = [this](torch::nn::Module&) { model(batch.input_ids, batch.token_type_ids, batch.attention_mask); };
    score = [this](torch::nn::Module&) { return sqnr(model); };
  }
};

SimOptions static_tf() { return SimOptions().scheme(sim::QuantScheme::tf); }

TEST(MixedPrecisionTest, ParetoListFallsInBitOpsAndTheChoiceRebuildsFromItsOverrides) {
  TinyAmp s;
  const test::ScratchDir dir("amp");
  QuantSim sim(s.model, QuantSimConfig::aimet_default(), static_tf());
  // The score: output SQNR in dB, capped at 40 (FP32's is +inf); 10 dB of it may go.
  const AmpOptions options = AmpOptions().candidates(parse_candidates("8/8,4/8")).allowed_drop(10.0).cache_file(dir.file("cache.json"));
  AmpCallbacks callbacks{s.calibrate, s.score, [&](torch::nn::Module& m) { return std::min(s.score(m), 40.0); }};
  const AmpResult r = choose_mixed_precision(sim, callbacks, options);

  ASSERT_GE(r.points.size(), 2u);
  EXPECT_EQ(r.candidates.front(), (Candidate{8, 8}));
  EXPECT_EQ(r.points.front().relative_bitops, 1.0);
  for (std::size_t i = 1; i < r.points.size(); ++i) EXPECT_LT(r.points[i].relative_bitops, r.points[i - 1].relative_bitops);
  // Every group at A4/W8: Linears at half their BitOps, attention products at a quarter.
  EXPECT_LT(r.points.back().relative_bitops, 0.5);
  EXPECT_GT(r.points.back().relative_bitops, 0.25);
  EXPECT_EQ(r.fp32, 40.0);
  // The cheapest point within the drop.
  ASSERT_TRUE(r.met);
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    if (r.points[i].score >= r.fp32 - 10.0) {
      EXPECT_GE(r.points[i].relative_bitops, r.points[r.chosen].relative_bitops);
    }
  }
  EXPECT_LT(r.points[r.chosen].relative_bitops, 1.0);
  // The sim holds the choice: scoring it now gives the chosen point's score.
  EXPECT_EQ(std::min(s.score(*s.model), 40.0), r.points[r.chosen].score);

  // A fresh simulation with the overrides, calibrated the same way, is the same model.
  models::bert::BertForTask fresh = test::load_tiny("std002", "seqcls2");
  QuantSim again(fresh, QuantSimConfig::aimet_default(), static_tf().bitwidth_overrides(r.overrides(sim)));
  again.compute_encodings([&](torch::nn::Module&) { fresh(s.batch.input_ids, s.batch.token_type_ids, s.batch.attention_mask); });
  for (const auto& slot : sim.quantizers()) {
    EXPECT_EQ(again.slot(slot.name).node->options.bitwidth(), slot.node->options.bitwidth()) << slot.name;
  }
  EXPECT_EQ(std::min(s.sqnr(fresh), 40.0), r.points[r.chosen].score);

  // Resumed from the cache: nothing evaluated again, the same result.
  TinyAmp t;
  QuantSim sim3(t.model, QuantSimConfig::aimet_default(), static_tf());
  AmpCallbacks callbacks3{t.calibrate, t.score, [&](torch::nn::Module& m) { return std::min(t.score(m), 40.0); }};
  const AmpResult resumed = choose_mixed_precision(sim3, callbacks3, options);
  EXPECT_EQ(resumed.evaluations, 0);
  EXPECT_EQ(resumed.chosen, r.chosen);
  ASSERT_EQ(resumed.points.size(), r.points.size());
  for (std::size_t i = 0; i < r.points.size(); ++i) EXPECT_EQ(resumed.points[i].score, r.points[i].score);
}

TEST(MixedPrecisionTest, OverridesRoundTripThroughTheirJsonFile) {
  TinyAmp s;
  const test::ScratchDir dir("amp_json");
  QuantSim sim(s.model, QuantSimConfig::aimet_default(), static_tf());
  AmpCallbacks callbacks{s.calibrate, s.score, s.score};
  const AmpResult r = choose_mixed_precision(sim, callbacks, AmpOptions().candidates({{8, 8}, {8, 4}}).allowed_drop(1e9));
  const std::string path = dir.file("mixed_precision.json");
  std::ofstream(path) << r.to_json(sim).dump();
  const auto loaded = load_bitwidth_overrides(path);
  const auto expected = r.overrides(sim);
  ASSERT_EQ(loaded.size(), expected.size());
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    EXPECT_EQ(loaded[i].pattern, expected[i].pattern);
    EXPECT_EQ(loaded[i].bitwidth, expected[i].bitwidth);
  }
  EXPECT_EQ(exact_pattern("a.b(c)"), "^a\\.b\\(c\\)$");
  std::ofstream(dir.file("bad.json")) << R"({"bitwidth_overrides": [{"pattern": 3}]})";
  QSIM_EXPECT_THROW_MSG(load_bitwidth_overrides(dir.file("bad.json")), ConfigError, {"bad.json", "pattern"});
}

TEST(MixedPrecisionTest, BadCandidatesAndDropsAreConfigErrors) {
  QSIM_EXPECT_THROW_MSG(parse_candidates("0/8"), ConfigError, {"A0/W8", "activation bits"});
  QSIM_EXPECT_THROW_MSG(parse_candidates("8/33"), ConfigError, {"A8/W33", "weight bits"});
  QSIM_EXPECT_THROW_MSG(parse_candidates("33/8"), ConfigError, {"A33/W8"});
  QSIM_EXPECT_THROW_MSG(parse_candidates(""), ConfigError, {"candidate ''"});
  QSIM_EXPECT_THROW_MSG(parse_candidates("8-8"), ConfigError, {"'8-8'"});
  QSIM_EXPECT_THROW_MSG(parse_candidates("8/8,8/8"), ConfigError, {"twice"});
  QSIM_EXPECT_THROW_MSG(validate_candidates({}), ConfigError, {"empty"});
  QSIM_EXPECT_THROW_MSG(AmpOptions().candidates({{8, 8}}).allowed_drop(-0.5).validate(), ConfigError, {"allowed_drop"});
  EXPECT_EQ(parse_candidates("16/8,8/4").size(), 2u);
}

}  // namespace
}  // namespace qsim::ptq
