#include "qsim/train/distributed.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "detail/check.hpp"
#include "qsim/log.hpp"

namespace qsim::train {
namespace {

int64_t env_number(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(v, &end, 10);
  QSIM_CHECK(end != nullptr && *end == '\0', ConfigError, "environment variable {}='{}' is not a number", name, v);
  return value;
}

}  // namespace

DistOptions DistOptions::from_env() {
  DistOptions o;
  o.world_size = env_number("WORLD_SIZE", o.world_size);
  o.rank = env_number("RANK", o.rank);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') o.master_addr = addr;
  o.master_port = env_number("MASTER_PORT", o.master_port);
  return o;
}

void DistOptions::validate() const {
  QSIM_CHECK(world_size >= 1, ConfigError, "world_size must be >= 1, got {}", world_size);
  QSIM_CHECK(rank >= 0 && rank < world_size, ConfigError, "rank {} outside [0, world_size {})", rank, world_size);
  QSIM_CHECK(master_port > 0 && master_port < 65536, ConfigError, "master_port {} outside (0, 65536)", master_port);
}

struct World::Group {
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
};

World::World() = default;

World::World(const DistOptions& options) : rank_(options.rank), size_(options.world_size) {
  options.validate();
  if (size_ == 1) return;
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(options.master_port);
  store_options.isServer = rank_ == 0;
  store_options.numWorkers = static_cast<size_t>(size_);
  store_options.waitWorkers = true;
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options);
  } catch (const std::exception& e) {
    QSIM_CHECK(false, IoError, "rank {}: cannot reach the process group's store at {}:{}: {}", rank_,
               options.master_addr, options.master_port, e.what());
  }
  auto gloo = c10d::ProcessGroupGloo::Options::create();
  gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(options.master_addr));
  group_ = std::make_shared<Group>();
  group_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, static_cast<int>(rank_), static_cast<int>(size_), gloo);
  logger()->info("distributed: rank {} of {} joined (gloo, {}:{})", rank_, size_, options.master_addr,
                 options.master_port);
}

at::Tensor World::all_gather_rows(const at::Tensor& local) const {
  if (size_ == 1) return local;
  std::vector<at::Tensor> count_in{at::full({1}, local.size(0), at::kLong)};
  std::vector<std::vector<at::Tensor>> counts_out(1);
  for (int64_t r = 0; r < size_; ++r) counts_out[0].push_back(at::empty({1}, at::kLong));
  group_->pg->allgather(counts_out, count_in)->wait();
  int64_t most = 0;
  for (const auto& c : counts_out[0]) most = std::max(most, c.item<int64_t>());
  // Gloo gathers equal shapes: pad every shard to the longest, then cut.
  std::vector<int64_t> shape = local.sizes().vec();
  shape[0] = most;
  std::vector<at::Tensor> padded_in{at::zeros(shape, local.options())};
  padded_in[0].narrow(0, 0, local.size(0)).copy_(local);
  std::vector<std::vector<at::Tensor>> padded_out(1);
  for (int64_t r = 0; r < size_; ++r) padded_out[0].push_back(at::empty(shape, local.options()));
  group_->pg->allgather(padded_out, padded_in)->wait();
  std::vector<at::Tensor> parts;
  for (int64_t r = 0; r < size_; ++r) {
    parts.push_back(padded_out[0][static_cast<size_t>(r)].narrow(0, 0, counts_out[0][static_cast<size_t>(r)].item<int64_t>()));
  }
  return at::cat(parts, 0);
}

void World::all_reduce_sum_(at::Tensor& t) const {
  if (size_ == 1) return;
  std::vector<at::Tensor> v{t};
  group_->pg->allreduce(v, c10d::AllreduceOptions{c10d::ReduceOp::SUM})->wait();
}
void World::all_reduce_min_(at::Tensor& t) const {
  if (size_ == 1) return;
  std::vector<at::Tensor> v{t};
  group_->pg->allreduce(v, c10d::AllreduceOptions{c10d::ReduceOp::MIN})->wait();
}
void World::all_reduce_max_(at::Tensor& t) const {
  if (size_ == 1) return;
  std::vector<at::Tensor> v{t};
  group_->pg->allreduce(v, c10d::AllreduceOptions{c10d::ReduceOp::MAX})->wait();
}
void World::barrier() const {
  if (size_ > 1) group_->pg->barrier()->wait();
}

std::pair<int64_t, int64_t> shard_rows(int64_t n, int64_t batch_size, int64_t rank, int64_t world_size) {
  QSIM_CHECK(batch_size > 0 && world_size > 0 && rank >= 0 && rank < world_size, ConfigError,
             "shard_rows: batch_size {} world_size {} rank {}", batch_size, world_size, rank);
  const int64_t batches = (n + batch_size - 1) / batch_size;
  const int64_t base = batches / world_size, extra = batches % world_size;
  const int64_t first = rank * base + std::min(rank, extra);
  const int64_t count = base + (rank < extra ? 1 : 0);
  return {std::min(n, first * batch_size), std::min(n, (first + count) * batch_size)};
}

TaskDataset shard(const TaskDataset& data, int64_t batch_size, const World& world) {
  const auto [begin, end] = shard_rows(data.size(), batch_size, world.rank(), world.size());
  return data.rows(begin, end);
}

Predictions predict_sharded(models::bert::BertForTask& model, const TaskDataset& data, const PredictOptions& options,
                            const World& world) {
  if (world.size() == 1) return predict(model, data, options);
  const TaskDataset mine = shard(data, options.batch_size, world);
  Predictions local = mine.size() > 0 ? predict(model, mine, options) : Predictions{};
  // A rank without rows still joins every gather, with empty tensors of the right shape.
  const auto gather = [&](const torch::Tensor& t, std::vector<int64_t> empty_shape) -> torch::Tensor {
    return world.all_gather_rows(t.defined() ? t.contiguous() : at::zeros(empty_shape, at::kFloat));
  };
  Predictions out;
  const bool qa = model->config.head == models::bert::BertHead::question_answering;
  if (qa) {
    out.start_logits = gather(local.start_logits, {0, data.max_seq_length()});
    out.end_logits = gather(local.end_logits, {0, data.max_seq_length()});
  } else {
    out.logits = gather(local.logits, {0, model->config.num_labels});
  }
  return out;
}

}  // namespace qsim::train
