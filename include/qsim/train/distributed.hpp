#pragma once

// Data parallelism on LibTorch's own engine: c10d process groups (Gloo on the CPU),
// joined through a TCPStore at master_addr:master_port as torchrun does. Evaluation
// shards the examples by whole batches, so every batch is the one a single process
// would run (same rows, same padding, same results bit for bit), and gathers the
// predictions on every rank in example order.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <ATen/core/Tensor.h>

#include "qsim/train/predict.hpp"

namespace qsim::train {

struct DistOptions {
  int64_t world_size = 1;
  int64_t rank = 0;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;

  /// torchrun's variables WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT where set,
  /// else the defaults above; ConfigError naming a variable that is not a number.
  static DistOptions from_env();
  /// ConfigError unless 1 ≤ world_size, 0 ≤ rank < world_size, 0 < port < 65536.
  void validate() const;
};

class World {
 public:
  /// One process: collectives return their input.
  World();
  /// Joins the group (blocks until every rank has arrived; IoError when the store
  /// cannot be reached). world_size 1 needs no store.
  explicit World(const DistOptions& options);

  int64_t rank() const { return rank_; }
  int64_t size() const { return size_; }
  bool is_main() const { return rank_ == 0; }

  /// Every rank's `local` rows concatenated in rank order; row counts may differ,
  /// the other dimensions and the dtype must agree (float or int64, CPU).
  at::Tensor all_gather_rows(const at::Tensor& local) const;
  /// Elementwise sum / min / max over ranks, in place (float or int64, CPU).
  void all_reduce_sum_(at::Tensor& t) const;
  void all_reduce_min_(at::Tensor& t) const;
  void all_reduce_max_(at::Tensor& t) const;
  void barrier() const;

 private:
  struct Group;
  std::shared_ptr<Group> group_;
  int64_t rank_ = 0;
  int64_t size_ = 1;
};

/// This rank's rows [begin, end) of n examples: contiguous whole batches of
/// batch_size, the first ranks taking one batch more when they do not divide.
std::pair<int64_t, int64_t> shard_rows(int64_t n, int64_t batch_size, int64_t rank, int64_t world_size);

/// This rank's rows of `data` (shard_rows): e.g. its share of the calibration batches.
TaskDataset shard(const TaskDataset& data, int64_t batch_size, const World& world);

/// predict() on this rank's shard, gathered: every rank returns all predictions,
/// in example order, equal to a single process's.
Predictions predict_sharded(models::bert::BertForTask& model, const TaskDataset& data, const PredictOptions& options,
                            const World& world);

}  // namespace qsim::train
