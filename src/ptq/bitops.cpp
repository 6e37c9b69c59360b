#include "qsim/ptq/bitops.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>

#include <torch/torch.h>

#include "detail/check.hpp"
#include "qsim/nn/quantizable.hpp"
#include "qsim/ptq/quantizer_groups.hpp"
#include "qsim/quant/quantizer_tap.hpp"

namespace qsim::ptq {
namespace {

using sim::QuantizerSlot;
using sim::SlotKind;

// Where a block's inputs come from: its own input quantizers and, in slot order,
// its producers' active output quantizers.
struct Sources {
  std::unordered_map<std::string, std::vector<std::string>> own_inputs;  // block → active input quantizers by index
  std::unordered_map<std::string, std::string> weight;                   // block → active weight quantizer
  std::unordered_map<std::string, std::vector<std::size_t>> producers;   // block → producers' output slot indices
};

Sources sources_of(const sim::QuantSim& sim) {
  Sources out;
  const auto& slots = sim.quantizers();
  std::unordered_map<std::string, std::size_t> output_of;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const QuantizerSlot& s = slots[i];
    if (!s.active) continue;
    if (s.kind == SlotKind::output) output_of.emplace(s.block, i);
    if (s.kind == SlotKind::param && s.param == "weight") out.weight.emplace(s.block, s.name);
    if (s.kind == SlotKind::input) {
      auto& v = out.own_inputs[s.block];
      if (v.size() <= s.index) v.resize(s.index + 1);
      v[s.index] = s.name;
    }
  }
  for (const sim::Edge& e : dataflow_edges(sim)) {
    const auto p = output_of.find(e.from);
    if (p != output_of.end()) out.producers[e.to].push_back(p->second);
  }
  for (auto& [block, list] : out.producers) std::sort(list.begin(), list.end());
  return out;
}

// Operand i of `block`: its own input quantizer i, else its i-th producer's output.
std::string operand(const sim::QuantSim& sim, const Sources& src, const std::string& block, std::size_t i) {
  if (const auto own = src.own_inputs.find(block); own != src.own_inputs.end()) {
    if (i < own->second.size() && !own->second[i].empty()) return own->second[i];
  }
  const auto p = src.producers.find(block);
  if (p == src.producers.end() || i >= p->second.size()) return "";
  return sim.quantizers()[p->second[i]].name;
}

}  // namespace

nlohmann::json to_json(const std::vector<MacBlock>& blocks) {
  nlohmann::json out = nlohmann::json::array();
  for (const MacBlock& b : blocks) {
    out.push_back({{"block", b.block}, {"op_type", b.op_type}, {"macs", b.macs}, {"operands", b.operands}});
  }
  return out;
}

std::vector<MacBlock> count_macs(const sim::QuantSim& sim, const std::function<void(torch::nn::Module&)>& forward_pass) {
  QSIM_CHECK(static_cast<bool>(forward_pass), ConfigError, "count_macs: needs a forward pass");
  const Sources src = sources_of(sim);
  std::vector<MacBlock> blocks;
  std::vector<int64_t> inner;  // MatMul: the shared dimension seen on input 0
  std::vector<std::unique_ptr<quant::QuantizerTap>> taps;
  blocks.reserve(sim.quantizers().size());
  inner.reserve(sim.quantizers().size());
  for (const auto& item : sim.model()->named_modules("", /*include_self=*/false)) {
    auto* q = dynamic_cast<nn::Quantizable*>(item.value().get());
    if (q == nullptr || (q->op_type() != "Gemm" && q->op_type() != "MatMul")) continue;
    const bool gemm = q->op_type() == "Gemm";
    MacBlock b{item.key(), std::string(q->op_type()), 0, {operand(sim, src, item.key(), 0), ""}};
    if (gemm) {
      const auto w = src.weight.find(item.key());
      b.operands[1] = w == src.weight.end() ? "" : w->second;
    } else {
      b.operands[1] = operand(sim, src, item.key(), 1);
    }
    const std::size_t k = blocks.size();
    blocks.push_back(std::move(b));
    inner.push_back(0);
    if (gemm) {
      const int64_t in = item.value()->named_parameters(false)["weight"].size(1);
      taps.push_back(std::make_unique<quant::QuantizerTap>(
          q->output_quantizer, [&blocks, k, in](const at::Tensor& y) { blocks[k].macs += y.numel() * in; }));
    } else {
      taps.push_back(std::make_unique<quant::QuantizerTap>(
          q->input_quantizer(0), [&inner, k](const at::Tensor& a) { inner[k] = a.size(-1); }));
      taps.push_back(std::make_unique<quant::QuantizerTap>(
          q->output_quantizer, [&blocks, &inner, k](const at::Tensor& y) { blocks[k].macs += y.numel() * inner[k]; }));
    }
  }
  {
    torch::NoGradGuard no_grad;
    forward_pass(*sim.model());
  }
  return blocks;
}

double bitops(const std::vector<MacBlock>& blocks, const std::function<int(const std::string&)>& bits) {
  double total = 0.0;
  for (const MacBlock& b : blocks) {
    const auto of = [&](const std::string& q) { return q.empty() ? 32.0 : static_cast<double>(bits(q)); };
    total += static_cast<double>(b.macs) * of(b.operands[0]) * of(b.operands[1]);
  }
  return total;
}

double bitops(const std::vector<MacBlock>& blocks, const sim::QuantSim& sim) {
  return bitops(blocks, [&](const std::string& name) {
    const sim::QuantizerSlot& s = sim.slot(name);
    return s.active ? s.node->options.bitwidth() : 32;
  });
}

}  // namespace qsim::ptq
