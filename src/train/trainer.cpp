#include "qsim/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/nn/dropout.hpp"
#include "qsim/quant/output_pool.hpp"
#include "qsim/train/task_loss.hpp"

namespace qsim::train {
namespace {

constexpr const char* kModelFile = "model.pt";
constexpr const char* kOptimizerFile = "optimizer.pt";
constexpr const char* kRngFile = "rng.pt";
constexpr const char* kStateFile = "trainer_state.json";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

torch::optim::AdamWOptions adamw_options(const TrainOptions& o, double lr, double weight_decay) {
  return torch::optim::AdamWOptions(lr)
      .betas({o.adam_beta1(), o.adam_beta2()})
      .eps(o.adam_epsilon())
      .weight_decay(weight_decay);
}

constexpr int64_t kLengthPoolBatches = 50;

// The row order of one epoch, a pure function of (seed, epoch): consecutive
// batch_size slices are the batches. With `lengths`, rows are sorted by length
// (longest first) within pools of kLengthPoolBatches batches, then the batches shuffled.
std::vector<int64_t> epoch_order(uint64_t seed, int64_t epoch, int64_t n, const std::vector<int64_t>& lengths,
                                 int64_t batch_size) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  auto shuffle = [&rng](auto first, int64_t count) {
    for (int64_t i = count - 1; i > 0; --i) std::swap(first[i], first[static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1))]);
  };
  shuffle(order.begin(), n);
  if (lengths.empty()) return order;
  const int64_t pool = batch_size * kLengthPoolBatches;
  for (int64_t begin = 0; begin < n; begin += pool) {
    const auto first = order.begin() + begin;
    std::stable_sort(first, first + std::min(pool, n - begin), [&lengths](int64_t a, int64_t b) {
      return lengths[static_cast<size_t>(a)] > lengths[static_cast<size_t>(b)];
    });
  }
  // Shuffle the full batches; a short one stays last, so batches are consecutive slices.
  const int64_t num_full = n / batch_size;
  std::vector<int64_t> batch_order(static_cast<size_t>((n + batch_size - 1) / batch_size));
  std::iota(batch_order.begin(), batch_order.end(), int64_t{0});
  shuffle(batch_order.begin(), num_full);
  std::vector<int64_t> out;
  out.reserve(order.size());
  for (int64_t b : batch_order)
    for (int64_t i = b * batch_size; i < std::min(n, (b + 1) * batch_size); ++i) out.push_back(order[static_cast<size_t>(i)]);
  return out;
}

// The rows of batch `index` of an epoch order.
std::vector<int64_t> batch_rows(const std::vector<int64_t>& order, int64_t index, int64_t batch_size, int64_t n) {
  const int64_t begin = index * batch_size;
  const int64_t end = std::min(n, begin + batch_size);
  return std::vector<int64_t>(order.begin() + begin, order.begin() + end);
}

at::Generator& cpu_generator() {
  static at::Generator generator = at::detail::getDefaultCPUGenerator();
  return generator;
}

std::string in_dir(const std::string& dir, const char* name) { return (std::filesystem::path(dir) / name).string(); }

void require_file(const std::string& path) {
  QSIM_CHECK(std::filesystem::is_regular_file(path), IoError, "{}: training checkpoint file missing", path);
}

}  // namespace

bool is_range_parameter(const std::string& name) {
  return ends_with(name, "encoding_min") || ends_with(name, "encoding_max");
}

void set_dropout(torch::nn::Module& module, double p) {
  for (const auto& child : module.modules(/*include_self=*/true))
    if (auto* dropout = dynamic_cast<nn::DropoutImpl*>(child.get())) dropout->options.p(p);
}

Trainer::Trainer(models::bert::BertForTask model, TrainOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  options_.validate();
  // Training allocates through LibTorch, never from the output pool: the blocks an
  // earlier inference (calibration, evaluation) left there would only add to the
  // training's memory.
  quant::release_output_pool();
  model_->bert->encoder->gradient_checkpointing = options_.gradient_checkpointing();
  std::vector<torch::Tensor> weights, ranges;
  for (const auto& item : model_->named_parameters()) {
    if (!item.value().requires_grad()) continue;
    (is_range_parameter(item.key()) ? ranges : weights).push_back(item.value());
  }
  num_weights_ = static_cast<int64_t>(weights.size());
  num_ranges_ = static_cast<int64_t>(ranges.size());
  QSIM_CHECK(!weights.empty() || !ranges.empty(), ConfigError, "train: the model has no trainable parameters");
  // Group 0: weights, group 1: ranges (always both, possibly empty, so indices are fixed).
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(weights, std::make_unique<torch::optim::AdamWOptions>(
                                   adamw_options(options_, options_.learning_rate(), options_.weight_decay())));
  groups.emplace_back(ranges, std::make_unique<torch::optim::AdamWOptions>(
                                  adamw_options(options_, options_.range_learning_rate(), 0.0)));
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      std::move(groups), adamw_options(options_, options_.learning_rate(), options_.weight_decay()));
  logger()->info("train: {} weight tensors, {} range tensors", num_weights_, num_ranges_);
}

int64_t Trainer::total_steps(const TaskDataset& data) const {
  if (options_.max_steps() > 0) return options_.max_steps();
  const int64_t per_epoch = (data.size() + options_.batch_size() - 1) / options_.batch_size();
  return per_epoch * options_.epochs();
}

double Trainer::train_step(const TaskBatch& batch) {
  model_->train();
  const double loss = run_step(batch, 1.0);
  ++step_;
  return loss;
}

// Σ over ranks of share·grad: the gradient of the whole batch's mean loss. One flat
// all-reduce; a parameter gets a gradient when any rank's has one, so every rank
// sends the same layout and applies the same update.
void Trainer::average_gradients(double share) {
  std::vector<torch::Tensor> params;
  for (const auto& group : optimizer_->param_groups())
    for (const auto& p : group.params()) params.push_back(p);
  std::vector<int64_t> flags;
  for (const auto& p : params) flags.push_back(p.grad().defined() ? 1 : 0);
  torch::Tensor defined = torch::tensor(flags, torch::kLong);
  world_->all_reduce_max_(defined);
  const int64_t* any = defined.data_ptr<int64_t>();
  std::vector<torch::Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    if (any[i] == 0) continue;
    if (!params[i].grad().defined()) params[i].mutable_grad() = torch::zeros_like(params[i]);
    grads.push_back(params[i].grad());
  }
  if (grads.empty()) return;
  std::vector<torch::Tensor> flat_parts;
  for (const auto& g : grads) flat_parts.push_back(g.reshape({-1}).to(torch::kFloat));
  torch::Tensor flat = torch::cat(flat_parts).mul_(share);
  world_->all_reduce_sum_(flat);
  int64_t offset = 0;
  for (auto& g : grads) {
    g.copy_(flat.narrow(0, offset, g.numel()).view_as(g));
    offset += g.numel();
  }
}

double Trainer::run_step(const TaskBatch& batch, double factor, double share) {
  const double base[2] = {options_.learning_rate(), options_.range_learning_rate()};
  auto& groups = optimizer_->param_groups();
  for (size_t g = 0; g < groups.size() && g < 2; ++g)
    static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(base[g] * factor);
  optimizer_->zero_grad();
  const torch::Tensor loss = task_loss(model_(batch.input_ids, batch.token_type_ids, batch.attention_mask), batch);
  double value = loss.item<double>();
  QSIM_CHECK(std::isfinite(value), ValueError, "train: step {}: loss is {}", step_ + 1, value);
  loss.backward();
  if (world_ != nullptr && world_->size() > 1) {
    average_gradients(share);
    torch::Tensor total = torch::tensor({value * share}, torch::kDouble);
    world_->all_reduce_sum_(total);
    value = total.item<double>();
  }
  if (options_.max_grad_norm() > 0.0) {
    std::vector<torch::Tensor> params;
    for (const auto& group : groups)
      for (const auto& p : group.params()) params.push_back(p);
    torch::nn::utils::clip_grad_norm_(params, options_.max_grad_norm());
  }
  optimizer_->step();
  return value;
}

TrainResult Trainer::train(const TaskDataset& data) {
  data.validate();
  QSIM_CHECK(data.size() > 0, ValueError, "train: the training data is empty");
  QSIM_CHECK(data.labels.defined() || data.start_positions.defined(), ValueError,
             "train: the training data has no labels or start/end positions");
  const int64_t total = total_steps(data);
  const int64_t warmup =
      options_.warmup_steps() > 0 ? options_.warmup_steps()
                                  : static_cast<int64_t>(options_.warmup_ratio() * static_cast<double>(total));
  const LinearWarmupSchedule schedule(std::min(warmup, total), total);
  const int64_t per_epoch = (data.size() + options_.batch_size() - 1) / options_.batch_size();
  if (!rng_restored_) torch::manual_seed(options_.seed());
  if (options_.dropout()) set_dropout(*model_, *options_.dropout());
  model_->train();
  TrainResult result;
  const auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> lengths;
  if (options_.group_by_length()) {
    const torch::Tensor sums = data.attention_mask.sum(1).to(torch::kCPU).contiguous();
    lengths.assign(sums.data_ptr<int64_t>(), sums.data_ptr<int64_t>() + sums.numel());
  }
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  double window = 0.0;
  int64_t window_count = 0;
  logger()->info("train: {} examples, batch {}, steps {}..{} of {} ({} per epoch)", data.size(),
                 options_.batch_size(), step_, total, total, per_epoch);
  while (step_ < total) {
    const int64_t epoch = step_ / per_epoch;
    if (epoch != order_epoch) order = epoch_order(options_.seed(), order_epoch = epoch, data.size(), lengths, options_.batch_size());
    std::vector<int64_t> rows = batch_rows(order, step_ % per_epoch, options_.batch_size(), data.size());
    double share = 1.0;
    if (world_ != nullptr && world_->size() > 1) {  // this rank's rows of the batch
      const auto [begin, end] = shard_rows(static_cast<int64_t>(rows.size()), 1, world_->rank(), world_->size());
      share = static_cast<double>(end - begin) / static_cast<double>(rows.size());
      // A rank without rows (a short last batch) runs the whole batch with weight 0:
      // its forward still applies what forwards apply in place (range gating).
      if (end > begin) rows = std::vector<int64_t>(rows.begin() + begin, rows.begin() + end);
    }
    const double lr = options_.learning_rate() * schedule.factor(step_);
    const double loss = run_step(data.batch(rows, options_.trim_padding()), schedule.factor(step_), share);
    ++step_;
    result.losses.push_back(loss);
    window += loss;
    ++window_count;
    if (options_.log_every() > 0 && (step_ % options_.log_every() == 0 || step_ == total)) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      logger()->info("train: step {}/{} epoch {} loss {:.4f} lr {:.3g} ({:.1f} s)", step_, total, epoch + 1,
                     window / static_cast<double>(window_count), lr, seconds);
      window = 0.0;
      window_count = 0;
    }
    if (options_.checkpoint_every() > 0 && step_ % options_.checkpoint_every() == 0) {
      save_checkpoint(options_.checkpoint_dir());
      model_->train();
    }
    if (on_step) on_step({step_, total, epoch, loss, lr});
  }
  model_->eval();
  result.steps = step_;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// A checkpoint is four files that only make sense together, so the directory is
// the unit of atomicity: they are written into `<dir>.partial`, the previous
// checkpoint is moved aside to `<dir>.old`, the new one renamed into place, the old
// one removed. A crash at any point leaves either the previous or the new
// checkpoint complete (load_checkpoint also looks in `<dir>.old`), never a mix.
void Trainer::save_checkpoint(const std::string& dir) const {
  namespace fs = std::filesystem;
  const std::string partial = dir + ".partial", old = dir + ".old";
  std::error_code ec;
  fs::remove_all(partial, ec);  // what a crashed save left behind
  fs::create_directories(partial, ec);
  QSIM_CHECK(!ec, IoError, "{}: cannot create the checkpoint directory: {}", partial, ec.message());
  write_checkpoint_files(partial);
  fs::remove_all(old, ec);
  if (fs::exists(dir)) fs::rename(dir, old, ec);
  QSIM_CHECK(!ec, IoError, "{}: cannot move the previous checkpoint aside: {}", dir, ec.message());
  fs::rename(partial, dir, ec);
  QSIM_CHECK(!ec, IoError, "{}: cannot rename {} into place: {}", dir, partial, ec.message());
  fs::remove_all(old, ec);
  logger()->info("train: checkpoint at step {} written to {}", step_, dir);
}

void Trainer::write_checkpoint_files(const std::string& dir) const {
  try {
    torch::save(model_, in_dir(dir, kModelFile));
    torch::save(*optimizer_, in_dir(dir, kOptimizerFile));
    at::Generator& generator = cpu_generator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    torch::save(generator.get_state(), in_dir(dir, kRngFile));
  } catch (const c10::Error& e) {
    throw IoError(fmt::format("{}: cannot write the training checkpoint: {}", dir, e.what_without_backtrace()));
  }
  const nlohmann::json state = {{"step", step_},
                                {"seed", options_.seed()},
                                {"num_weight_tensors", num_weights_},
                                {"num_range_tensors", num_ranges_}};
  std::ofstream out(in_dir(dir, kStateFile));
  out << state.dump(2) << "\n";
  out.close();
  QSIM_CHECK(out.good(), IoError, "{}: cannot write", in_dir(dir, kStateFile));
}

namespace {
// A save that crashed between its two renames left the previous checkpoint,
// complete, in <dir>.old and nothing under <dir>.
bool crashed_between_renames(const std::string& dir) {
  return !std::filesystem::exists(dir) && std::filesystem::exists(in_dir(dir + ".old", kStateFile));
}
}  // namespace

bool checkpoint_exists(const std::string& dir) {
  return std::filesystem::is_regular_file(in_dir(dir, kStateFile)) || crashed_between_renames(dir);
}

void Trainer::load_checkpoint(const std::string& requested) {
  std::string dir = requested;
  if (crashed_between_renames(requested)) {
    dir = requested + ".old";
    logger()->warn("train: {} is missing; resuming from the previous checkpoint in {}", requested, dir);
  }
  for (const char* name : {kModelFile, kOptimizerFile, kRngFile, kStateFile}) require_file(in_dir(dir, name));
  nlohmann::json state;
  try {
    std::ifstream in(in_dir(dir, kStateFile));
    state = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(fmt::format("{}: invalid JSON: {}", in_dir(dir, kStateFile), e.what()));
  }
  QSIM_CHECK(state.contains("step") && state["step"].is_number_integer(), IoError, "{}: 'step' missing",
             in_dir(dir, kStateFile));
  const auto ranges = state.value("num_range_tensors", int64_t{-1});
  QSIM_CHECK(ranges == num_ranges_, IoError,
             "{}: the checkpoint has {} range tensors, this model {} (same QuantSim mode expected)",
             in_dir(dir, kStateFile), ranges, num_ranges_);
  try {
    torch::load(model_, in_dir(dir, kModelFile));
    torch::load(*optimizer_, in_dir(dir, kOptimizerFile));
    torch::Tensor rng_state;
    torch::load(rng_state, in_dir(dir, kRngFile));
    at::Generator& generator = cpu_generator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng_state);
  } catch (const c10::Error& e) {
    throw IoError(fmt::format("{}: cannot read the training checkpoint: {}", dir, e.what_without_backtrace()));
  }
  step_ = state["step"].get<int64_t>();
  rng_restored_ = true;
  logger()->info("train: resumed from {} at step {}", dir, step_);
}

}  // namespace qsim::train
