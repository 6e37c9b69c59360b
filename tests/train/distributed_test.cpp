// Data-parallel pieces that need no second process (the 2-process runs are in
// tests/examples: scripts/dp-eval.sh against one process): shards of whole batches
// that cover every example once in order, torchrun's environment variables, and
// the bad-input paths.
#include <cstdlib>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>
#include <unistd.h>

#include "qsim/error.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/train/distributed.hpp"
#include "qsim/train/trainer.hpp"
#include "tiny_task.hpp"

namespace qsim::train {
namespace {

TEST(DistributedTest, ShardsAreWholeBatchesCoveringEveryExampleOnce) {
  for (int64_t n : {0, 1, 7, 12, 13, 100}) {
    for (int64_t batch : {1, 4, 5}) {
      for (int64_t world : {1, 2, 3, 5}) {
        int64_t next = 0;
        for (int64_t rank = 0; rank < world; ++rank) {
          const auto [begin, end] = shard_rows(n, batch, rank, world);
          EXPECT_EQ(begin, next) << n << " " << batch << " " << world << " " << rank;
          EXPECT_TRUE(begin % batch == 0 || begin == n) << "a shard starts on a batch boundary";
          EXPECT_LE(end - begin, ((n + batch - 1) / batch + world - 1) / world * batch) << "balanced";
          next = end;
        }
        EXPECT_EQ(next, n);
      }
    }
  }
  EXPECT_THROW(shard_rows(10, 0, 0, 1), ConfigError);
  EXPECT_THROW(shard_rows(10, 2, 2, 2), ConfigError);
}

TEST(DistributedTest, OptionsComeFromTorchrunsVariables) {
  setenv("WORLD_SIZE", "4", 1);
  setenv("RANK", "3", 1);
  setenv("MASTER_ADDR", "10.0.0.7", 1);
  setenv("MASTER_PORT", "29555", 1);
  const DistOptions o = DistOptions::from_env();
  EXPECT_EQ(o.world_size, 4);
  EXPECT_EQ(o.rank, 3);
  EXPECT_EQ(o.master_addr, "10.0.0.7");
  EXPECT_EQ(o.master_port, 29555);
  setenv("RANK", "three", 1);
  EXPECT_THROW(DistOptions::from_env(), ConfigError);
  for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"}) unsetenv(v);
  const DistOptions defaults = DistOptions::from_env();
  EXPECT_EQ(defaults.world_size, 1);
  EXPECT_EQ(defaults.rank, 0);
}

TEST(DistributedTest, BadOptionsAreConfigErrorsAndOneProcessNeedsNoStore) {
  DistOptions o;
  o.world_size = 2;
  o.rank = 2;
  EXPECT_THROW(o.validate(), ConfigError);
  o.rank = 0;
  o.master_port = 70000;
  EXPECT_THROW(o.validate(), ConfigError);
  const World single(DistOptions{});
  EXPECT_EQ(single.size(), 1);
  const torch::Tensor t = torch::arange(6).view({3, 2});
  EXPECT_TRUE(torch::equal(single.all_gather_rows(t), t));
}

// A tiny model under range-learning QAT, calibrated on `data` (the same on every rank).
struct Qat {
  models::bert::BertForTask model = test::tiny_model(1);
  std::unique_ptr<sim::QuantSim> sim;
  explicit Qat(const TaskDataset& data) {
    sim = std::make_unique<sim::QuantSim>(model, sim::QuantSimConfig::aimet_default(),
                                          sim::SimOptions().scheme(sim::QuantScheme::tf_range_learning));
    sim->compute_encodings([&](torch::nn::Module&) { run_batches(model, data, 8, 0); });
    sim->set_mode(sim::Mode::range_learning);
  }
  std::map<std::string, torch::Tensor> parameters() const {
    std::map<std::string, torch::Tensor> out;
    for (const auto& p : model->named_parameters()) out[p.key()] = p.value().detach().clone();
    return out;
  }
};

// Two ranks (threads, each with its own model and c10d group over loopback) train
// with averaged gradients: they end with the same weights and ranges bit for bit,
// those of one process training on the whole batches up to summation order; and
// the ranges did learn. 13 rows in batches of 4 leave a last batch of one row: the
// rank without a row runs it with weight 0 (its forward still gates the ranges).
TEST(DistributedTest, TwoRanksAverageGradientsOfWeightsAndRanges) {
  const TaskDataset data = test::marker_task(13);
  const TrainOptions options = TrainOptions().batch_size(4).epochs(1).learning_rate(1e-3).range_learning_rate(1e-3)
                                   .log_every(0);
  // One intra-op thread: the two ranks share this process's thread pool, and the
  // clipping norm's reduction order follows the thread count.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  Qat single(data), rank0(data), rank1(data);
  const auto before = single.parameters();
  const TrainResult whole = Trainer(single.model, options).train(data);
  TrainResult results[2];

  const int64_t port = 31000 + ::getpid() % 500;  // apart from the e2e tests' ports (30000-30899)
  std::exception_ptr failure[2];
  auto run_rank = [&](Qat& q, int64_t rank) {
    try {
      DistOptions o;
      o.world_size = 2;
      o.rank = rank;
      o.master_port = port;
      const World world(o);
      Trainer trainer(q.model, options);
      trainer.set_world(&world);
      results[rank] = trainer.train(data);
      world.barrier();
    } catch (...) {
      failure[rank] = std::current_exception();
    }
  };
  std::thread t0(run_rank, std::ref(rank0), 0), t1(run_rank, std::ref(rank1), 1);
  t0.join();
  t1.join();
  at::set_num_threads(threads);
  for (const auto& f : failure) {
    if (f) std::rethrow_exception(f);
  }
  // The averaged loss is the whole batch's (a wrong weighting shows here: AdamW
  // itself does not see a gradient's scale).
  ASSERT_EQ(results[0].losses.size(), whole.losses.size());
  EXPECT_NEAR(results[0].losses[0], whole.losses[0], 1e-6);
  for (size_t i = 0; i < whole.losses.size(); ++i) {
    EXPECT_EQ(results[0].losses[i], results[1].losses[i]);
    EXPECT_NEAR(results[0].losses[i], whole.losses[i], 1e-4) << "step " << i;
  }
  const auto p0 = rank0.parameters(), p1 = rank1.parameters(), reference = single.parameters();
  size_t ranges = 0;
  for (const auto& [name, value] : reference) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(torch::equal(p0.at(name), p1.at(name))) << "the ranks diverged";
    // AdamW normalises each update, so summation-order noise in a near-zero gradient
    // can move a weight by up to the learning rate per step: a loose bound.
    EXPECT_LE((p0.at(name) - value).abs().max().item<double>(), 1e-3) << "not the whole batches' update";
    if (name.find("encoding_") != std::string::npos) {
      ++ranges;
      if (!torch::equal(value, before.at(name))) {
        EXPECT_FALSE(torch::equal(p0.at(name), before.at(name)));
      }
    }
  }
  EXPECT_GT(ranges, 10u);
}

}  // namespace
}  // namespace qsim::train
