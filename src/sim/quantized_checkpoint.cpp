#include "qsim/sim/quantized_checkpoint.hpp"

#include <filesystem>

#include <torch/torch.h>

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/log.hpp"

namespace qsim::sim {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kStateFormat = "qsim.quantsim_state";

bool is_quantizer_state(const std::string& name) {
  const auto ends_with = [&name](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with("encoding_min") || ends_with("encoding_max");
}

io::TensorList float_state(const torch::nn::Module& model) {
  io::TensorList out;
  for (const auto& item : model.named_parameters()) {
    if (!is_quantizer_state(item.key()) && item.value().defined()) out.emplace_back(item.key(), item.value().detach());
  }
  for (const auto& item : model.named_buffers()) {
    if (item.value().defined()) out.emplace_back(item.key(), item.value().detach());
  }
  return out;
}

void write_json(const fs::path& path, const json& value) {
  io::write_file_atomically(path.string(), value.dump(4) + '\n');
}

json options_json(const SimOptions& o) {
  json overrides = json::array();
  for (const BitwidthOverride& b : o.bitwidth_overrides()) {
    overrides.push_back({{"pattern", b.pattern}, {"bitwidth", b.bitwidth}});
  }
  json groups = json::array();
  for (const EmbeddingGroupsRule& r : o.embedding_groups()) {
    groups.push_back({{"pattern", r.pattern}, {"groups", r.groups}, {"permute", r.permute}});
  }
  return json{{"scheme", to_string(o.scheme())},
              {"param_bitwidth", o.param_bitwidth()},
              {"output_bitwidth", o.output_bitwidth()},
              {"percentile", o.percentile()},
              {"per_channel", o.per_channel() ? json(*o.per_channel()) : json(nullptr)},
              {"mask_add_override", to_string(o.mask_add_override())},
              {"bitwidth_overrides", std::move(overrides)},
              {"embedding_groups", std::move(groups)},
              {"cache_quantized_weights", o.cache_quantized_weights()}};
}

template <typename T>
T state_field(const json& object, const char* key, const std::string& where) {
  QSIM_CHECK(object.is_object() && object.contains(key), ConfigError, "{}: missing '{}'", where, key);
  try {
    return object.at(key).get<T>();
  } catch (const json::exception&) {
    throw ConfigError(fmt::format("{}: '{}' has the wrong type: {}", where, key, object.at(key).dump()));
  }
}

SimOptions options_from_json(const json& j, const std::string& where) {
  SimOptions o;
  o.scheme(parse_quant_scheme(state_field<std::string>(j, "scheme", where)));
  o.param_bitwidth(state_field<int>(j, "param_bitwidth", where));
  o.output_bitwidth(state_field<int>(j, "output_bitwidth", where));
  o.percentile(state_field<double>(j, "percentile", where));
  QSIM_CHECK(j.contains("per_channel"), ConfigError, "{}: missing 'per_channel'", where);
  if (!j.at("per_channel").is_null()) o.per_channel(state_field<bool>(j, "per_channel", where));
  o.mask_add_override(parse_mask_add_override(state_field<std::string>(j, "mask_add_override", where)));
  // Both lists are absent from checkpoints written before mixed precision and PEG.
  std::vector<BitwidthOverride> overrides;
  for (const json& b : j.value("bitwidth_overrides", json::array())) {
    overrides.push_back({state_field<std::string>(b, "pattern", where + ": 'bitwidth_overrides'"),
                         state_field<int>(b, "bitwidth", where + ": 'bitwidth_overrides'")});
  }
  o.bitwidth_overrides(std::move(overrides));
  std::vector<EmbeddingGroupsRule> groups;
  for (const json& r : j.value("embedding_groups", json::array())) {
    const std::string at = where + ": 'embedding_groups'";
    groups.push_back({state_field<std::string>(r, "pattern", at), state_field<int64_t>(r, "groups", at),
                      state_field<bool>(r, "permute", at)});
  }
  o.embedding_groups(std::move(groups));
  if (j.contains("cache_quantized_weights")) {
    o.cache_quantized_weights(state_field<bool>(j, "cache_quantized_weights", where));
  }
  return o;
}

json state_json(const QuantSim& sim) {
  json quantizers = json::object();
  for (const QuantizerSlot& s : sim.quantizers()) {
    const quant::QuantizerOptions& o = s.node->options;
    quantizers[s.name] = json{{"active", s.active},
                              {"frozen", s.frozen},
                              {"grid", quant::to_string(o.grid())},
                              {"bitwidth", o.bitwidth()},
                              {"symmetry", quant::to_string(o.symmetry())},
                              {"channel_axis", o.channel_axis() ? json(*o.channel_axis()) : json(nullptr)},
                              {"embedding_groups", o.embedding_groups()}};
  }
  return json{{"format", kStateFormat},
              {"version", 1},
              {"options", options_json(sim.options())},
              {"mode", to_string(sim.mode())},
              {"quantizers", std::move(quantizers)}};
}

Mode parse_mode(const std::string& name, const std::string& where) {
  for (Mode m : {Mode::fp32, Mode::quantized, Mode::range_learning}) {
    if (to_string(m) == name) return m;
  }
  throw ConfigError(fmt::format("{}: unknown mode '{}'", where, name));
}

void load_weights(torch::nn::Module& model, const std::string& dir) {
  const io::TensorList loaded = io::load_state_dict(dir);
  std::unordered_map<std::string, const at::Tensor*> by_name;
  for (const auto& [name, tensor] : loaded) by_name[name] = &tensor;
  const std::string file = (fs::path(dir) / io::kSafetensorsWeightsName).string();
  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : float_state(model)) {
    const auto it = by_name.find(name);
    QSIM_CHECK(it != by_name.end(), IoError, "{}: missing tensor '{}'", file, name);
    const at::Tensor& source = *it->second;
    QSIM_CHECK(source.sizes() == target.sizes(), ValueError, "{}: '{}': shape {}, model expects {}", file, name,
               c10::str(source.sizes()), c10::str(target.sizes()));
    at::Tensor destination = target;
    destination.copy_(source);
  }
}

// Restores per-quantizer options before the encodings are loaded (bitwidths must match).
void apply_slot_options(QuantSim& sim, const json& quantizers, const std::string& where) {
  QSIM_CHECK(quantizers.is_object(), ConfigError, "{}: 'quantizers' must be an object", where);
  for (const QuantizerSlot& s : sim.quantizers()) {
    QSIM_CHECK(quantizers.contains(s.name), ConfigError, "{}: no state for quantizer '{}'", where, s.name);
    const json& q = quantizers.at(s.name);
    const std::string at = where + ": '" + s.name + "'";
    quant::QuantizerNode node = sim.quantizer(s.name);
    quant::QuantizerOptions& o = node->options;
    o.bitwidth(state_field<int>(q, "bitwidth", at));
    o.symmetry(quant::parse_symmetry(state_field<std::string>(q, "symmetry", at)));
    QSIM_CHECK(q.contains("channel_axis"), ConfigError, "{}: missing 'channel_axis'", at);
    o.channel_axis(q.at("channel_axis").is_null() ? std::nullopt
                                                  : std::optional<int64_t>(state_field<int64_t>(q, "channel_axis", at)));
    const int64_t groups = q.contains("embedding_groups") ? state_field<int64_t>(q, "embedding_groups", at) : 0;
    QSIM_CHECK(groups >= 0, ConfigError, "{}: 'embedding_groups' must be >= 0, got {}", at, groups);
    o.embedding_groups(groups);
  }
  QSIM_CHECK(quantizers.size() == sim.quantizers().size(), ConfigError,
             "{}: state lists {} quantizers, the model has {}", where, quantizers.size(), sim.quantizers().size());
}

}  // namespace

void save_quantized(const QuantSim& sim, const std::string& dir, const json& model_config) {
  QSIM_CHECK(sim.calibrated(), ConfigError, "save_quantized: '{}': the simulation has no encodings", dir);
  io::save_checkpoint(dir, float_state(*sim.model()), model_config);
  write_json(fs::path(dir) / kEncodingsFileName, sim.encodings_json());
  write_json(fs::path(dir) / kQuantsimConfigFileName, sim.config().source);
  write_json(fs::path(dir) / kQuantsimStateFileName, state_json(sim));
}

void save_quantized(const QuantSim& sim, const std::string& dir) {
  const auto* bert = dynamic_cast<const models::bert::BertForTaskImpl*>(sim.model().get());
  QSIM_CHECK(bert != nullptr, ConfigError,
             "save_quantized: '{}': the model is not a BertForTask; pass its config.json explicitly", dir);
  save_quantized(sim, dir, bert->config.to_json());
  json state = io::read_json_file((fs::path(dir) / kQuantsimStateFileName).string());
  const models::bert::AttentionMask& mask = bert->config.attention_mask;
  state["attention_mask"] = mask.mode == models::bert::MaskMode::hf    ? json("hf")
                            : mask.mode == models::bert::MaskMode::zoo ? json("zoo")
                                                                      : json(fmt::format("{}", mask.custom_value));
  write_json(fs::path(dir) / kQuantsimStateFileName, state);
}

QuantSim load_quantized(std::shared_ptr<torch::nn::Module> model, const std::string& dir) {
  QSIM_CHECK(model != nullptr, ConfigError, "load_quantized: '{}': model is null", dir);
  const std::string state_path = (fs::path(dir) / kQuantsimStateFileName).string();
  const json state = io::read_json_file(state_path);
  QSIM_CHECK(state.is_object() && state.value("format", "") == kStateFormat, IoError,
             "{}: not a qsim quantsim state file", state_path);
  load_weights(*model, dir);
  const std::string config_path = (fs::path(dir) / kQuantsimConfigFileName).string();
  QuantSim sim(model, QuantSimConfig::from_file(config_path),
               options_from_json(state_field<json>(state, "options", state_path), state_path + ": 'options'"));
  const json quantizers = state_field<json>(state, "quantizers", state_path);
  apply_slot_options(sim, quantizers, state_path);
  sim.load_encodings_file((fs::path(dir) / kEncodingsFileName).string());
  for (const QuantizerSlot& s : sim.quantizers()) {
    const json& q = quantizers.at(s.name);
    const std::string at = state_path + ": '" + s.name + "'";
    QSIM_CHECK(state_field<bool>(q, "active", at) == s.active, ConfigError,
               "{}: active in the state file but not in the encodings, or the reverse", at);
    sim.set_frozen(s.name, state_field<bool>(q, "frozen", at));
    quant::QuantizerNode node = sim.quantizer(s.name);
    const quant::Grid grid = quant::parse_grid(state_field<std::string>(q, "grid", at));
    if (s.active && grid == quant::Grid::learned_grid) node->switch_to_learned_grid();
    if (s.active && grid == quant::Grid::static_grid) node->switch_to_static_grid();
  }
  sim.set_mode(parse_mode(state_field<std::string>(state, "mode", state_path), state_path));
  return sim;
}

QuantizedBert load_quantized_bert(const std::string& dir) {
  models::bert::BertConfig config = models::bert::BertConfig::from_file((fs::path(dir) / io::kConfigName).string());
  const std::string state_path = (fs::path(dir) / kQuantsimStateFileName).string();
  const json state = io::read_json_file(state_path);
  if (state.contains("attention_mask")) {
    config.attention_mask = models::bert::AttentionMask::parse(state_field<std::string>(state, "attention_mask", state_path));
  }
  models::bert::BertForTask model(config);
  QuantSim sim = load_quantized(model.ptr(), dir);
  return {model, std::move(sim)};
}

}  // namespace qsim::sim
