// Data-parallel calibration (QuantSim::set_statistics_reduce): two "processes" that
// each calibrate on half the batch and combine their min/max statistics get every
// encoding of one process that saw the whole batch, bit for bit; schemes whose
// statistics are not min/max are refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

using Encodings = std::map<std::string, std::vector<quant::Encoding>>;

using Batches = std::vector<std::pair<int64_t, int64_t>>;  // row ranges, one forward each

// The same batches as the processes run (a batch's rows decide its GEMM blocks, so
// its activations' last bits): one process runs them all.
Encodings calibrate(const char* head, const test::Batch& b, const Batches& batches,
                    const QuantSim::StatisticsReduce& reduce, QuantScheme scheme = QuantScheme::tf) {
  auto model = test::load_tiny("sharp", head);
  QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(scheme));
  sim.set_statistics_reduce(reduce);
  sim.compute_encodings([&](torch::nn::Module&) {
    for (const auto& [begin, end] : batches) {
      const auto rows = [&, begin = begin, end = end](const torch::Tensor& t) { return t.narrow(0, begin, end - begin); };
      model(rows(b.input_ids), rows(b.token_type_ids), rows(b.attention_mask));
    }
  });
  Encodings out;
  for (const QuantizerSlot* s : sim.active_quantizers()) out[s->name] = s->node->encodings();
  return out;
}

TEST(DataParallelCalibrationTest, HalvesCombinedGiveTheWholeBatchsEncodings) {
  for (const char* head : {"seqcls2", "qa"}) {
    SCOPED_TRACE(head);
    const test::Batch b = test::load_batch("sharp");
    const int64_t n = b.input_ids.size(0), half = n / 2;
    ASSERT_GE(n, 2);
    const Encodings whole = calibrate(head, b, {{0, half}, {half, n}}, nullptr);
    // "Rank 1" first, recording its statistics; then "rank 0" combines them with its own.
    torch::Tensor lo1, hi1;
    const Encodings alone = calibrate(head, b, {{half, n}}, [&](torch::Tensor& lo, torch::Tensor& hi) {
      lo1 = lo.clone();
      hi1 = hi.clone();
    });
    const Encodings combined = calibrate(head, b, {{0, half}}, [&](torch::Tensor& lo, torch::Tensor& hi) {
      lo = torch::minimum(lo, lo1);
      hi = torch::maximum(hi, hi1);
    });
    ASSERT_EQ(combined.size(), whole.size());
    for (const auto& [name, encodings] : whole) {
      ASSERT_TRUE(combined.count(name)) << name;
      EXPECT_EQ(combined.at(name), encodings) << name;
    }
    EXPECT_NE(alone, whole) << "half the batch alone should give other encodings";
  }
}

TEST(DataParallelCalibrationTest, OnlyMinMaxStatisticsCombine) {
  const test::Batch b = test::load_batch("sharp");
  const auto identity = [](torch::Tensor&, torch::Tensor&) {};
  EXPECT_THROW(calibrate("seqcls2", b, {{0, 2}}, identity, QuantScheme::tf_enhanced), ConfigError);
  EXPECT_NO_THROW(calibrate("seqcls2", b, {{0, 2}}, identity, QuantScheme::tf_range_learning));
}

}  // namespace
}  // namespace qsim::sim
