#include "ptq/layer_capture.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "detail/check.hpp"

namespace qsim::ptq::detail {
namespace {

// Keeps at most `limit` of the rows listed per batch (flat indices), chosen at
// random but the same for the same seed; the order within a batch is kept.
std::vector<at::Tensor> subsample(const std::vector<at::Tensor>& per_batch, int64_t limit, uint64_t seed) {
  int64_t total = 0;
  for (const at::Tensor& t : per_batch) total += t.numel();
  if (total <= limit) return per_batch;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor chosen = std::get<0>(at::randperm(total, generator, at::TensorOptions(at::kLong)).narrow(0, 0, limit).sort());
  std::vector<at::Tensor> out;
  int64_t offset = 0;
  for (const at::Tensor& t : per_batch) {
    const at::Tensor mine = chosen.masked_select((chosen >= offset) & (chosen < offset + t.numel())) - offset;
    out.push_back(t.index_select(0, mine));
    offset += t.numel();
  }
  return out;
}

// Thrown by the capture kernel to end a forward once it has what it needs.
struct StopForward {};

struct CaptureState {
  const RowPlan* plan = nullptr;
  std::vector<nn::LinearImpl*> candidates;
  bool quantize_inputs = false;
  int64_t batch = 0;
  std::size_t reached = 0;      // candidates recorded in this batch
  const void* input = nullptr;  // the tensor candidates[0] read in this batch
  std::vector<std::vector<at::Tensor>> rows;  // per candidate, per batch
};

// Records a candidate's input when it reads what candidates[0] read, in order;
// stops the forward at the first Linear that does not.
class CaptureKernel : public nn::LinearKernel {
 public:
  CaptureKernel(CaptureState& state, std::size_t index) : state_(state), index_(index) {}
  bool active(const nn::LinearImpl&) const override { return true; }
  std::optional<torch::Tensor> forward(nn::LinearImpl& linear, const torch::Tensor& input) override {
    const bool next = index_ == state_.reached && (index_ == 0 || input.data_ptr() == state_.input);
    if (!next) throw StopForward{};
    if (index_ == 0) state_.input = input.data_ptr();
    const at::Tensor x = state_.quantize_inputs ? linear.input_quantizer(0)->forward(input) : input;
    state_.rows[index_].push_back(kept_rows(*state_.plan, state_.batch, x).clone());
    ++state_.reached;
    if (state_.reached == state_.candidates.size()) throw StopForward{};
    return std::nullopt;  // the Linear computes as usual, so the next ones run
  }

 private:
  CaptureState& state_;
  std::size_t index_;
};

// Detaches the capture kernels however the pass ends.
struct Attached {
  const std::vector<nn::LinearImpl*>& linears;
  ~Attached() {
    for (nn::LinearImpl* l : linears) l->kernel.reset();
  }
};

}  // namespace

RowPlan plan_rows(const train::TaskDataset& data, int64_t batches, int64_t batch_size, int64_t max_rows,
                  uint64_t seed) {
  RowPlan plan;
  plan.batch_size = batch_size;
  for (int64_t b = 0; b < batches && b * batch_size < data.size(); ++b) {
    const train::TaskBatch batch = data.batch(b * batch_size, std::min(data.size(), (b + 1) * batch_size));
    plan.tokens.push_back(batch.attention_mask.reshape({-1}).nonzero().reshape({-1}).to(at::kCPU));
    plan.sequences.push_back(at::arange(batch.input_ids.size(0), at::kLong));
  }
  plan.tokens = subsample(plan.tokens, max_rows, seed);
  plan.sequences = subsample(plan.sequences, max_rows, seed + 1);
  return plan;
}

at::Tensor kept_rows(const RowPlan& plan, int64_t b, const at::Tensor& x) {
  const auto index = static_cast<std::size_t>(b);
  if (x.dim() == 2) return x.index_select(0, plan.sequences[index].to(x.device()));
  QSIM_CHECK(x.dim() == 3, ValueError, "adaround: a Linear's input of shape {}: expected [B, L, in] or [B, in]",
             c10::str(x.sizes()));
  return x.reshape({-1, x.size(2)}).index_select(0, plan.tokens[index].to(x.device()));
}

std::vector<at::Tensor> capture_inputs(models::bert::BertForTask& model, const train::TaskDataset& data,
                                       const RowPlan& plan, const std::vector<nn::LinearImpl*>& candidates,
                                       bool quantize_inputs) {
  CaptureState state;
  state.plan = &plan;
  state.candidates = candidates;
  state.quantize_inputs = quantize_inputs;
  state.rows.resize(candidates.size());
  const Attached attached{candidates};
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    candidates[i]->kernel = std::make_shared<CaptureKernel>(state, i);
  }
  std::size_t captured = 0;
  for (int64_t b = 0; b < plan.batches(); ++b) {
    state.batch = b;
    state.reached = 0;
    state.input = nullptr;
    const train::TaskBatch batch = data.batch(b * plan.batch_size, std::min(data.size(), (b + 1) * plan.batch_size));
    try {
      model(batch.input_ids, batch.token_type_ids, batch.attention_mask);
    } catch (const StopForward&) {
    }
    QSIM_CHECK(state.reached > 0 && (b == 0 || state.reached == captured), ValueError,
               "adaround: batch {} reached {} of the Linears to cache, batch 0 reached {}", b, state.reached, captured);
    captured = state.reached;
  }
  std::vector<at::Tensor> out;
  for (std::size_t i = 0; i < captured; ++i) out.push_back(at::cat(state.rows[i]));
  return out;
}

}  // namespace qsim::ptq::detail
