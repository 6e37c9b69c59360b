// Data-parallel pieces that need no second process (the 2-process runs are in
// tests/examples: scripts/dp-eval.sh against one process): shards of whole batches
// that cover every example once in order, torchrun's environment variables, and
// the bad-input paths.
#include <cstdlib>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/train/distributed.hpp"

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

}  // namespace
}  // namespace qsim::train
