#include "qsim/ptq/block_error.hpp"

#include <cmath>
#include <limits>
#include <memory>

#include <torch/torch.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/quant/quantizer_tap.hpp"

namespace qsim::ptq {
namespace {

// One block's output under both models: FP32 values kept per batch, sums over all.
struct BlockRecord {
  std::string block;
  std::string op_type;
  std::vector<at::Tensor> reference;  // this batch's FP32 outputs, in call order
  std::size_t next = 0;               // quantized pass: which reference comes next
  double signal = 0.0, noise = 0.0;
  int64_t elements = 0;
  int64_t order = -1;  // first call in the FP32 pass: forward order
};

}  // namespace

at::Tensor real_token_values(const at::Tensor& y, const at::Tensor& mask) {
  const at::Tensor m = mask.to(y.device()).to(at::kBool);
  const int64_t b = m.size(0), l = m.size(1);
  if (y.dim() == 4 && y.size(0) == b && y.size(2) == l) {
    // [B, heads, L, ·]: query rows; attention maps ([B, heads, L, L]) also key columns.
    // (A per-head context whose head size happens to equal L loses those columns too:
    // more left out, never padding let in.)
    const at::Tensor keys = y.size(3) == l ? m.view({b, 1, 1, l}) : at::ones({b, 1, 1, 1}, m.options());
    return y.masked_select(m.view({b, 1, l, 1}).logical_and(keys));
  }
  if (y.dim() >= 2 && y.size(0) == b && y.size(1) == l) {
    return y.reshape({b * l, -1}).index({m.reshape({b * l})}).reshape({-1});
  }
  return y.reshape({-1});  // per sequence ([B, hidden], logits): no padding
}

nlohmann::json to_json(const std::vector<BlockError>& errors) {
  nlohmann::json out = nlohmann::json::array();
  for (const BlockError& e : errors) {
    out.push_back({{"block", e.block},
                   {"op_type", e.op_type},
                   {"mse", e.mse},
                   {"sqnr_db", std::isinf(e.sqnr_db) ? nlohmann::json(nullptr) : nlohmann::json(e.sqnr_db)},
                   {"elements", e.elements}});
  }
  return out;
}

std::vector<BlockError> block_errors(sim::QuantSim& sim, models::bert::BertForTask& model,
                                     const train::TaskDataset& data, const BlockErrorOptions& options) {
  QSIM_CHECK(sim.calibrated(), ConfigError, "block errors: the simulation must be calibrated first");
  QSIM_CHECK(options.samples() > 0 && options.batch_size() > 0, ConfigError,
             "block errors: samples and batch_size must be > 0, got {} and {}", options.samples(), options.batch_size());
  const sim::Mode mode = sim.mode();
  std::vector<std::unique_ptr<BlockRecord>> records;
  std::vector<std::unique_ptr<quant::QuantizerTap>> taps;
  bool reference_pass = true;
  at::Tensor mask;
  int64_t calls = 0;
  for (const sim::QuantizerSlot& s : sim.quantizers()) {
    if (s.kind != sim::SlotKind::output) continue;
    records.push_back(std::make_unique<BlockRecord>(BlockRecord{s.block, s.op_type, {}, 0, 0.0, 0.0, 0, -1}));
    BlockRecord* r = records.back().get();
    taps.push_back(std::make_unique<quant::QuantizerTap>(s.node, [&, r](const at::Tensor& y) {
      const at::Tensor values = real_token_values(y.detach(), mask).to(at::kDouble);
      if (reference_pass) {
        if (r->order < 0) r->order = calls++;
        r->reference.push_back(values);
        return;
      }
      QSIM_CHECK(r->next < r->reference.size(), ValueError, "block errors: '{}' ran more often quantized than in FP32",
                 r->block);
      const at::Tensor& ref = r->reference[r->next++];
      r->signal += ref.square().sum().item<double>();
      r->noise += (ref - values).square().sum().item<double>();
      r->elements += ref.numel();
    }));
  }
  torch::NoGradGuard no_grad;
  model->eval();
  const int64_t rows = std::min(options.samples(), data.size());
  for (int64_t begin = 0; begin < rows; begin += options.batch_size()) {
    const train::TaskBatch batch = data.batch(begin, std::min(rows, begin + options.batch_size()));
    mask = batch.attention_mask;
    for (auto& r : records) r->reference.clear(), r->next = 0;
    reference_pass = true;
    sim.set_mode(sim::Mode::fp32);
    model(batch.input_ids, batch.token_type_ids, batch.attention_mask);
    reference_pass = false;
    sim.set_mode(sim::Mode::quantized);
    model(batch.input_ids, batch.token_type_ids, batch.attention_mask);
  }
  taps.clear();
  sim.set_mode(mode);
  std::vector<BlockRecord*> ran;
  for (auto& r : records) {
    if (r->order >= 0) ran.push_back(r.get());
  }
  std::sort(ran.begin(), ran.end(), [](const BlockRecord* a, const BlockRecord* b) { return a->order < b->order; });
  std::vector<BlockError> out;
  for (const BlockRecord* r : ran) {
    const double mse = r->elements > 0 ? r->noise / static_cast<double>(r->elements) : 0.0;
    const double sqnr = r->noise > 0.0 ? 10.0 * std::log10(r->signal / r->noise) : std::numeric_limits<double>::infinity();
    out.push_back({r->block, r->op_type, mse, sqnr, r->elements});
  }
  logger()->info("block errors: {} blocks over {} rows", out.size(), rows);
  return out;
}

}  // namespace qsim::ptq
