#include "placement.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <unordered_map>

#include "detail/check.hpp"
#include "qsim/log.hpp"

namespace qsim::sim::detail {
namespace {

// The graph the rules walk: blocks first (same indices as `blocks`), then the
// functional ops of the topology.
struct Node {
  std::string name;
  std::string op_type;
  int block = -1;  // index into blocks, −1 for a functional op
  std::vector<std::size_t> producers;
  std::vector<std::size_t> consumers;
};

// Per-slot placement state (AIMET's enabled / use_symmetric_encodings).
struct SlotState {
  bool enabled = false;
  bool symmetric = false;
};

enum class Setting { enabled, symmetric };

class Placer {
 public:
  Placer(const std::vector<Block>& blocks, std::vector<QuantizerSlot>& slots, const ModelTopology& topology)
      : blocks_(blocks), slots_(slots), states_(slots.size()), per_channel_(blocks.size(), false) {
    build_slot_index();
    build_graph(topology);
  }

  void apply(const QuantSimConfig& config, const SimOptions& options, const ModelTopology& topology);

 private:
  void build_slot_index();
  void build_graph(const ModelTopology& topology);
  std::size_t node_of(const std::string& path, const std::string& what) const;

  std::vector<std::size_t> inputs_of(std::size_t node) const;
  std::vector<std::size_t> outputs_of(std::size_t node) const;
  std::vector<std::size_t> params_of(int block) const { return block_params_[static_cast<std::size_t>(block)]; }
  std::vector<std::size_t> tensors_for(std::size_t node, bool input, bool value) const;

  using Modified = std::map<std::size_t, std::set<Setting>>;
  void modify(const std::vector<std::size_t>& list, Setting setting, bool value, Modified& modified,
              const std::string& rule);
  void apply_op_rule(std::size_t node, const OpRule& rule, Modified& modified, const std::string& where);
  void apply_param_rule(std::size_t slot, const ParamRule& rule);
  void apply_supergroup(const std::vector<std::string>& ops);
  void match_chain(const std::vector<std::string>& ops, std::vector<std::size_t>& chain);
  std::vector<std::string> onnx_types(const Node& node) const;

  const std::vector<Block>& blocks_;
  std::vector<QuantizerSlot>& slots_;
  std::vector<SlotState> states_;
  std::vector<bool> per_channel_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string, std::size_t> node_index_;
  std::vector<std::vector<std::size_t>> block_inputs_, block_outputs_, block_params_;
};

void Placer::build_slot_index() {
  std::unordered_map<std::string, std::size_t> block_of;
  for (std::size_t b = 0; b < blocks_.size(); ++b) block_of[blocks_[b].path] = b;
  block_inputs_.assign(blocks_.size(), {});
  block_outputs_.assign(blocks_.size(), {});
  block_params_.assign(blocks_.size(), {});
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    const std::size_t b = block_of.at(slots_[s].block);
    switch (slots_[s].kind) {
      case SlotKind::input: block_inputs_[b].push_back(s); break;
      case SlotKind::output: block_outputs_[b].push_back(s); break;
      case SlotKind::param: block_params_[b].push_back(s); break;
    }
  }
}

void Placer::build_graph(const ModelTopology& topology) {
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    nodes_.push_back({blocks_[b].path, std::string(blocks_[b].quantizable->op_type()), static_cast<int>(b), {}, {}});
    node_index_[blocks_[b].path] = b;
  }
  for (const Edge& edge : topology.edges) {
    const std::size_t from = node_of(edge.from, "edge source");
    const std::size_t to = node_of(edge.to, "edge target");
    nodes_[from].consumers.push_back(to);
    nodes_[to].producers.push_back(from);
  }
  for (const FunctionalOp& op : topology.functional_ops) {
    const std::size_t id = nodes_.size();
    nodes_.push_back({op.name, op.op_type, -1, {}, {}});
    for (const std::string& p : op.producers) {
      const std::size_t from = node_of(p, "producer of " + op.name);
      nodes_[from].consumers.push_back(id);
      nodes_[id].producers.push_back(from);
    }
    for (const std::string& c : op.consumers) {
      const std::size_t to = node_of(c, "consumer of " + op.name);
      nodes_[id].consumers.push_back(to);
      nodes_[to].producers.push_back(id);
    }
  }
}

std::size_t Placer::node_of(const std::string& path, const std::string& what) const {
  const auto it = node_index_.find(path);
  QSIM_CHECK(it != node_index_.end(), ConfigError, "model topology: {} '{}' is not a qsim block of the model", what,
             path);
  return it->second;
}

std::vector<std::size_t> Placer::inputs_of(std::size_t node) const {
  return nodes_[node].block < 0 ? std::vector<std::size_t>{} : block_inputs_[static_cast<std::size_t>(nodes_[node].block)];
}

std::vector<std::size_t> Placer::outputs_of(std::size_t node) const {
  return nodes_[node].block < 0 ? std::vector<std::size_t>{} : block_outputs_[static_cast<std::size_t>(nodes_[node].block)];
}

// AIMET's _get_tensor_quantizers_for_{input,output}_{true,false}_setting: a block's
// own slots for "True"; a functional op's neighbours' slots; for "False" also the
// neighbouring blocks' slots on the other side of the tensor.
std::vector<std::size_t> Placer::tensors_for(std::size_t node, bool input, bool value) const {
  std::vector<std::size_t> out;
  const Node& n = nodes_[node];
  const auto append = [&out](const std::vector<std::size_t>& more) { out.insert(out.end(), more.begin(), more.end()); };
  if (input) {
    append(inputs_of(node));
    if (n.block < 0 || !value) {
      for (std::size_t p : n.producers) append(outputs_of(p));
    }
  } else {
    append(outputs_of(node));
    if (n.block < 0 || !value) {
      for (std::size_t c : n.consumers) append(inputs_of(c));
    }
  }
  return out;
}

void Placer::modify(const std::vector<std::size_t>& list, Setting setting, bool value, Modified& modified,
                    const std::string& rule) {
  for (std::size_t s : list) {
    bool& field = setting == Setting::enabled ? states_[s].enabled : states_[s].symmetric;
    auto& seen = modified[s];
    if (seen.count(setting) != 0) {
      QSIM_CHECK(field == value, ConfigError, "quantsim config: '{}': conflicting settings for quantizer '{}'", rule,
                 slots_[s].name);
      continue;
    }
    field = value;
    seen.insert(setting);
  }
}

void Placer::apply_op_rule(std::size_t node, const OpRule& rule, Modified& modified, const std::string& where) {
  if (rule.is_input_quantized) {
    modify(tensors_for(node, true, *rule.is_input_quantized), Setting::enabled, *rule.is_input_quantized, modified,
           where + ".is_input_quantized");
  }
  if (rule.is_output_quantized) {
    modify(tensors_for(node, false, *rule.is_output_quantized), Setting::enabled, *rule.is_output_quantized,
           modified, where + ".is_output_quantized");
  }
  if (rule.is_symmetric) {
    std::vector<std::size_t> list = tensors_for(node, true, true);
    const std::vector<std::size_t> outputs = tensors_for(node, false, true);
    list.insert(list.end(), outputs.begin(), outputs.end());
    modify(list, Setting::symmetric, *rule.is_symmetric, modified, where + ".is_symmetric");
  }
  const int block = nodes_[node].block;
  if (block < 0) return;
  for (std::size_t s : params_of(block)) {
    const auto it = rule.params.find(slots_[s].param);
    if (it != rule.params.end()) apply_param_rule(s, it->second);
  }
  if (rule.per_channel_quantization) per_channel_[static_cast<std::size_t>(block)] = *rule.per_channel_quantization;
}

void Placer::apply_param_rule(std::size_t slot, const ParamRule& rule) {
  if (rule.is_quantized) states_[slot].enabled = *rule.is_quantized;
  if (rule.is_symmetric) states_[slot].symmetric = *rule.is_symmetric;
}

// AIMET's map_torch_types_to_onnx as seen by op_type rules (§7.2): Linear is both
// Gemm and MatMul; Embedding and the elementwise MatMul module have no entry.
std::vector<std::string> Placer::onnx_types(const Node& node) const {
  if (node.block < 0) return {node.op_type};
  if (node.op_type == "Gemm") return {"Gemm", "MatMul"};
  if (node.op_type == "MatMul" || node.op_type == "Embedding") return {};
  return {node.op_type};
}

void Placer::match_chain(const std::vector<std::string>& ops, std::vector<std::size_t>& chain) {
  if (chain.size() == ops.size()) {
    // SupergroupConfigCallback: first op loses its outputs, last its inputs, the
    // ones between both; functional ops have no quantizers of their own.
    for (std::size_t i = 0; i < chain.size(); ++i) {
      if (nodes_[chain[i]].block < 0) continue;
      if (i != 0) for (std::size_t s : inputs_of(chain[i])) states_[s].enabled = false;
      if (i + 1 != chain.size()) for (std::size_t s : outputs_of(chain[i])) states_[s].enabled = false;
    }
    logger()->debug("quantsim config: supergroup match starting at '{}'", nodes_[chain.front()].name);
    return;
  }
  for (std::size_t next : nodes_[chain.back()].consumers) {
    if (nodes_[next].op_type != ops[chain.size()]) continue;
    chain.push_back(next);
    match_chain(ops, chain);
    chain.pop_back();
  }
}

void Placer::apply_supergroup(const std::vector<std::string>& ops) {
  for (std::size_t n = 0; n < nodes_.size(); ++n) {
    if (nodes_[n].op_type != ops.front()) continue;
    std::vector<std::size_t> chain{n};
    match_chain(ops, chain);
  }
}

void Placer::apply(const QuantSimConfig& config, const SimOptions& options, const ModelTopology& topology) {
  // _disable_all_quantizers: everything off and asymmetric, then defaults.
  Modified modified;
  for (std::size_t n = 0; n < nodes_.size(); ++n) apply_op_rule(n, config.defaults.ops, modified, "defaults.ops");
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s].kind == SlotKind::param) apply_param_rule(s, config.defaults.params);
  }
  const bool per_channel = config.defaults.per_channel_quantization.value_or(false);
  per_channel_.assign(blocks_.size(), per_channel);
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s].kind != SlotKind::param) continue;
    const auto it = config.params.find(slots_[s].param);
    if (it != config.params.end()) apply_param_rule(s, it->second);
  }
  Modified op_modified;
  for (std::size_t n = 0; n < nodes_.size(); ++n) {
    for (const std::string& type : onnx_types(nodes_[n])) {
      const auto it = config.op_type.find(type);
      if (it != config.op_type.end()) apply_op_rule(n, it->second, op_modified, "op_type." + type);
    }
  }
  for (const auto& group : config.supergroups) apply_supergroup(group);
  for (const std::string& path : topology.model_inputs) {
    Modified fresh;
    apply_op_rule(node_of(path, "model input"), config.model_input, fresh, "model_input");
  }
  for (const std::string& path : topology.model_outputs) {
    Modified fresh;
    apply_op_rule(node_of(path, "model output"), config.model_output, fresh, "model_output");
  }
  if (options.per_channel()) per_channel_.assign(blocks_.size(), *options.per_channel());

  const bool strict = config.defaults.strict_symmetric.value_or(false);
  const bool uns = config.defaults.unsigned_symmetric.value_or(true);
  std::unordered_map<std::string, std::size_t> block_of;
  for (std::size_t b = 0; b < blocks_.size(); ++b) block_of[blocks_[b].path] = b;
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    QuantizerSlot& slot = slots_[s];
    const std::size_t b = block_of.at(slot.block);
    quant::QuantizerOptions& o = slot.node->options;
    const bool param = slot.kind == SlotKind::param;
    o.bitwidth(param ? options.param_bitwidth() : options.output_bitwidth());
    if (!states_[s].symmetric) {
      o.symmetry(quant::Symmetry::asymmetric);
    } else {
      o.symmetry(strict ? quant::Symmetry::strict_symmetric
                        : (uns ? quant::Symmetry::unsigned_symmetric : quant::Symmetry::symmetric));
    }
    o.channel_axis(std::nullopt);
    o.embedding_groups(0);
    o.enabled(false);
    slot.active = states_[s].enabled;
    if (param) {
      const torch::Tensor tensor = slot_parameter(blocks_[b], slot.param);
      if (!tensor.defined()) slot.active = false;
      if (per_channel_[b] && tensor.defined() && tensor.dim() >= 1) o.channel_axis(0);
    }
  }
  if (strict && uns) {
    logger()->warn("quantsim config: strict_symmetric with unsigned_symmetric: qsim uses strict symmetric grids");
  }
}

// SimOptions' name rules, after the config: bitwidth overrides (mixed precision),
// then embedding groups. A pattern that matches nothing is a typo, not a no-op.
void apply_name_rules(std::vector<QuantizerSlot>& slots, const SimOptions& options) {
  for (const BitwidthOverride& rule : options.bitwidth_overrides()) {
    const std::regex pattern(rule.pattern);
    std::size_t matched = 0;
    for (QuantizerSlot& s : slots) {
      if (!std::regex_search(s.name, pattern)) continue;
      s.node->options.bitwidth(rule.bitwidth);
      ++matched;
    }
    QSIM_CHECK(matched > 0, ConfigError, "sim options: bitwidth override '{}' matches no quantizer", rule.pattern);
    logger()->info("quantsim: {} quantizers at {} bits ('{}')", matched, rule.bitwidth, rule.pattern);
  }
  for (const EmbeddingGroupsRule& rule : options.embedding_groups()) {
    const std::regex pattern(rule.pattern);
    std::size_t matched = 0;
    for (QuantizerSlot& s : slots) {
      if (!std::regex_search(s.name, pattern)) continue;
      QSIM_CHECK(s.kind != SlotKind::param, ConfigError,
                 "sim options: embedding groups '{}' match parameter quantizer '{}' (activations only)", rule.pattern,
                 s.name);
      s.node->options.embedding_groups(rule.groups);
      s.permute_groups = rule.permute;
      ++matched;
    }
    QSIM_CHECK(matched > 0, ConfigError, "sim options: embedding groups '{}' match no quantizer", rule.pattern);
    logger()->info("quantsim: {} quantizers with {} embedding groups{} ('{}')", matched, rule.groups,
                   rule.permute ? " (range-based permutation)" : "", rule.pattern);
  }
}

}  // namespace

void collect_slots(torch::nn::Module& model, std::vector<Block>& blocks, std::vector<QuantizerSlot>& slots) {
  const auto modules = model.named_modules();
  std::unordered_map<std::string, std::size_t> order;
  for (std::size_t i = 0; i < modules.size(); ++i) order[modules[i].key()] = i;
  const std::size_t first = slots.size();
  for (const auto& item : modules) {
    auto* q = dynamic_cast<nn::Quantizable*>(item.value().get());
    if (q == nullptr) continue;
    const std::string& path = item.key();
    blocks.push_back({path, q, item.value().get()});
    const std::string prefix = path.empty() ? "" : path + ".";
    const std::string op_type(q->op_type());
    for (std::size_t i = 0; i < q->num_inputs(); ++i) {
      slots.push_back({prefix + "input_quantizers." + std::to_string(i), path, op_type, SlotKind::input, i, "",
                       q->input_quantizer(i), false, false});
    }
    slots.push_back({prefix + "output_quantizer", path, op_type, SlotKind::output, 0, "", q->output_quantizer, false,
                     false});
    for (const auto& [param, node] : q->param_quantizers()) {
      slots.push_back({prefix + param + "_quantizer", path, op_type, SlotKind::param, 0, param, node, false, false});
    }
  }
  // Module-tree order of the nodes themselves, whatever order a block registers them in.
  std::stable_sort(slots.begin() + static_cast<std::ptrdiff_t>(first), slots.end(),
                   [&order](const QuantizerSlot& a, const QuantizerSlot& b) {
                     const auto ia = order.find(a.name), ib = order.find(b.name);
                     const std::size_t ka = ia == order.end() ? order.size() : ia->second;
                     const std::size_t kb = ib == order.end() ? order.size() : ib->second;
                     return ka < kb;
                   });
}

torch::Tensor slot_parameter(const Block& block, const std::string& param) {
  const auto params = block.module->named_parameters(/*recurse=*/false);
  const torch::Tensor* found = params.find(param);
  return found == nullptr ? torch::Tensor() : *found;
}

void place_quantizers(const std::vector<Block>& blocks, std::vector<QuantizerSlot>& slots,
                      const QuantSimConfig& config, const SimOptions& options, const ModelTopology& topology) {
  Placer(blocks, slots, topology).apply(config, options, topology);
  apply_name_rules(slots, options);
}

}  // namespace qsim::sim::detail
