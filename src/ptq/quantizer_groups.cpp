#include "qsim/ptq/quantizer_groups.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

#include <torch/torch.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/models/bert/bert_model.hpp"
#include "qsim/quant/quantizer_tap.hpp"

namespace qsim::ptq {
namespace {

using sim::QuantizerSlot;
using sim::SlotKind;

bool usable(const QuantizerSlot& s) { return s.active && !s.frozen; }

// Groups keyed by something, ordered by their first member's slot index.
class GroupBuilder {
 public:
  void add(const std::string& key, const std::string& name, std::size_t slot, const std::string& quantizer) {
    auto [it, fresh] = index_.emplace(key, groups_.size());
    if (fresh) groups_.push_back({slot, {name, {}}});
    Entry& e = groups_[it->second];
    e.first = std::min(e.first, slot);
    e.group.quantizers.push_back(quantizer);
  }
  std::vector<QuantizerGroup> take() {
    std::stable_sort(groups_.begin(), groups_.end(), [](const Entry& a, const Entry& b) { return a.first < b.first; });
    std::vector<QuantizerGroup> out;
    for (Entry& e : groups_) out.push_back(std::move(e.group));
    return out;
  }

 private:
  struct Entry {
    std::size_t first;
    QuantizerGroup group;
  };
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<Entry> groups_;
};

// The edges AIMET's connected graph sees through BERT's reshapes and transposes.
void add_bert_view_edges(const models::bert::BertModelImpl& bert, const std::string& p, std::vector<sim::Edge>& out) {
  for (int64_t i = 0; i < bert.config.num_hidden_layers; ++i) {
    const std::string l = p + "encoder.layer." + std::to_string(i) + ".";
    const std::string s = l + "attention.self.";
    out.push_back({s + "query", s + "matmul_1"});
    out.push_back({s + "key", s + "matmul_1"});
    out.push_back({s + "value", s + "matmul_2"});
    out.push_back({s + "matmul_2", l + "attention.output.dense"});
  }
  if (bert.pooler && bert.config.num_hidden_layers > 0) {
    const std::string last = p + "encoder.layer." + std::to_string(bert.config.num_hidden_layers - 1) + ".";
    out.push_back({last + "output.LayerNorm", p + "pooler.dense"});
  }
}

}  // namespace

nlohmann::json to_json(const std::vector<QuantizerGroup>& groups) {
  nlohmann::json out = nlohmann::json::array();
  for (const QuantizerGroup& g : groups) out.push_back({{"name", g.name}, {"quantizers", g.quantizers}});
  return out;
}

std::vector<QuantizerGroup> block_groups(const sim::QuantSim& sim) {
  GroupBuilder builder;
  const auto& slots = sim.quantizers();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (usable(slots[i])) builder.add(slots[i].block, slots[i].block, i, slots[i].name);
  }
  return builder.take();
}

std::vector<QuantizerGroup> activation_quantizer_groups(const sim::QuantSim& sim) {
  std::vector<QuantizerGroup> out;
  for (const QuantizerSlot& s : sim.quantizers()) {
    if (usable(s) && s.kind != SlotKind::param) out.push_back({s.name, {s.name}});
  }
  return out;
}

std::vector<sim::Edge> dataflow_edges(const sim::QuantSim& sim) {
  const sim::ModelTopology& topology = sim.topology();
  std::vector<sim::Edge> out = topology.edges;
  for (const sim::FunctionalOp& op : topology.functional_ops) {
    for (const std::string& from : op.producers) {
      for (const std::string& to : op.consumers) out.push_back({from, to});
    }
  }
  const torch::nn::Module& model = *sim.model();
  if (const auto* task = dynamic_cast<const models::bert::BertForTaskImpl*>(&model)) {
    add_bert_view_edges(*task->bert, "bert.", out);
  } else if (const auto* bert = dynamic_cast<const models::bert::BertModelImpl*>(&model)) {
    add_bert_view_edges(*bert, "", out);
  }
  return out;
}

std::vector<QuantizerGroup> mixed_precision_groups(const sim::QuantSim& sim) {
  return mixed_precision_groups(sim, dataflow_edges(sim));
}

std::vector<QuantizerGroup> mixed_precision_groups(const sim::QuantSim& sim, const std::vector<sim::Edge>& edges) {
  const auto& slots = sim.quantizers();
  std::unordered_map<std::string, std::size_t> output_of;  // block → its active output slot
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (usable(slots[i]) && slots[i].kind == SlotKind::output) output_of.emplace(slots[i].block, i);
  }
  std::unordered_map<std::string, std::size_t> first_producer;  // consumer block → producer's output slot
  for (const sim::Edge& e : edges) {
    const auto p = output_of.find(e.from);
    if (p == output_of.end()) continue;
    auto [it, fresh] = first_producer.emplace(e.to, p->second);
    if (!fresh) it->second = std::min(it->second, p->second);
  }
  GroupBuilder builder;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const QuantizerSlot& s = slots[i];
    if (!usable(s)) continue;
    std::size_t owner = i;
    if (s.kind != SlotKind::output) {
      const auto p = first_producer.find(s.block);
      const auto own = output_of.find(s.block);
      if (p != first_producer.end()) {
        owner = p->second;
      } else if (own != output_of.end()) {
        owner = own->second;
      } else {
        builder.add("block:" + s.block, s.block, i, s.name);  // no quantized producer, no own output
        continue;
      }
    }
    builder.add("output:" + slots[owner].block, slots[owner].block, i, s.name);
  }
  return builder.take();
}

std::vector<std::string> forward_order(const sim::QuantSim& sim, const std::function<void(torch::nn::Module&)>& forward_pass) {
  std::vector<std::string> order;
  std::unordered_map<std::string, bool> seen;
  std::vector<std::unique_ptr<quant::QuantizerTap>> taps;
  for (const QuantizerSlot& s : sim.quantizers()) {
    const std::string* block = &s.block;
    taps.push_back(std::make_unique<quant::QuantizerTap>(s.node, [&order, &seen, block](const at::Tensor&) {
      if (!seen[*block]) {
        seen[*block] = true;
        order.push_back(*block);
      }
    }));
  }
  torch::NoGradGuard no_grad;
  forward_pass(*sim.model());
  return order;
}

void sort_by_forward_order(std::vector<QuantizerGroup>& groups, const sim::QuantSim& sim,
                           const std::vector<std::string>& order) {
  std::unordered_map<std::string, std::size_t> place;
  for (std::size_t i = 0; i < order.size(); ++i) place.emplace(order[i], i);
  const auto key = [&](const std::string& quantizer) {
    const auto it = place.find(sim.slot(quantizer).block);
    return it == place.end() ? std::numeric_limits<std::size_t>::max() : it->second;
  };
  for (QuantizerGroup& g : groups) {
    std::stable_sort(g.quantizers.begin(), g.quantizers.end(),
                     [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  }
  std::stable_sort(groups.begin(), groups.end(), [&](const QuantizerGroup& a, const QuantizerGroup& b) {
    return key(a.quantizers.front()) < key(b.quantizers.front());
  });
}

}  // namespace qsim::ptq
