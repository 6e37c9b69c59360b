#include "qsim/models/bert/bert_checkpoint.hpp"

#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/nn/module.h>

#include "detail/check.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/log.hpp"
#include "qsim/models/bert/bert_config.hpp"
#include "qsim/quant/quantizer_node.hpp"

namespace qsim::models::bert {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_of(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

// A checkpoint key → the model's name for it (empty = ignore the key).
std::string map_key(const std::string& key, const std::map<std::string, at::Tensor>& expected) {
  if (key == "position_ids" || ends_with(key, ".position_ids")) return {};
  std::string name = key;
  if (ends_with(name, ".gamma")) name = name.substr(0, name.size() - 6) + ".weight";
  if (ends_with(name, ".beta")) name = name.substr(0, name.size() - 5) + ".bias";
  if (expected.count(name) == 0 && expected.count("bert." + name) != 0) name = "bert." + name;
  return name;
}

// At most `limit` names, then "... (N in all)".
std::string list_names(const std::vector<std::string>& names, std::size_t limit = 8) {
  std::vector<std::string> shown;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) shown.push_back("'" + names[i] + "'");
  std::string out = fmt::format("{}", fmt::join(shown, ", "));
  if (names.size() > limit) out += fmt::format(", ... ({} in all)", names.size());
  return out;
}

}  // namespace

io::TensorList hf_state_dict(const torch::nn::Module& model) {
  io::TensorList out;
  std::vector<std::string> quantizer_prefixes;
  for (const auto& item : model.named_modules()) {
    const std::string& path = item.key();
    bool inside_quantizer = false;
    for (const auto& prefix : quantizer_prefixes) inside_quantizer = inside_quantizer || path.rfind(prefix, 0) == 0;
    if (inside_quantizer) continue;
    if (dynamic_cast<const quant::QuantizerNodeImpl*>(item.value().get()) != nullptr) {
      quantizer_prefixes.push_back(path + ".");
      continue;
    }
    const std::string prefix = path.empty() ? "" : path + ".";
    for (const auto& param : item.value()->named_parameters(/*recurse=*/false)) {
      if (param.value().defined()) out.emplace_back(prefix + param.key(), param.value());
    }
  }
  return out;
}

void load_hf_state_dict(torch::nn::Module& model, const io::TensorList& state, const std::string& origin) {
  std::map<std::string, at::Tensor> expected;
  std::vector<std::string> order;
  for (auto& [name, tensor] : hf_state_dict(model)) {
    expected.emplace(name, tensor);
    order.push_back(name);
  }
  std::map<std::string, at::Tensor> found;
  std::vector<std::string> unexpected;
  for (const auto& [key, tensor] : state) {
    const std::string name = map_key(key, expected);
    if (name.empty()) continue;
    if (expected.count(name) == 0) {
      unexpected.push_back(key);
      continue;
    }
    QSIM_CHECK(found.count(name) == 0, IoError, "{}: '{}': given twice (as '{}' and another spelling)", origin,
               name, key);
    found.emplace(name, tensor);
  }
  std::vector<std::string> missing;
  for (const auto& name : order)
    if (found.count(name) == 0) missing.push_back(name);
  QSIM_CHECK(missing.empty(), IoError, "{}: missing keys: {}", origin, list_names(missing));
  QSIM_CHECK(unexpected.empty(), IoError, "{}: unexpected keys: {}", origin, list_names(unexpected));
  for (const auto& name : order) {
    const at::Tensor& source = found.at(name);
    const at::Tensor& target = expected.at(name);
    QSIM_CHECK(source.sizes() == target.sizes(), IoError, "{}: '{}': shape {}, model expects {}", origin, name,
               shape_of(source.sizes()), shape_of(target.sizes()));
    QSIM_CHECK(at::isFloatingType(source.scalar_type()), IoError, "{}: '{}': dtype {}, expected a floating type",
               origin, name, c10::toString(source.scalar_type()));
  }
  at::NoGradGuard no_grad;
  for (const auto& name : order) expected.at(name).copy_(found.at(name));
  logger()->debug("{}: loaded {} tensors", origin, order.size());
}

BertForTask load_pretrained(const std::string& dir, const AttentionMask& mask) {
  BertConfig config = BertConfig::from_file(dir + "/config.json");
  config.attention_mask = mask;
  BertForTask model(config);
  const std::string weights = io::find_weights_file(dir);
  load_hf_state_dict(*model, io::load_state_dict(dir), weights);
  model->eval();
  logger()->info("loaded {} from {} ({} layers, hidden {})", to_string(config.head), weights,
                 config.num_hidden_layers, config.hidden_size);
  return model;
}

void save_pretrained(const BertForTaskImpl& model, const std::string& dir) {
  io::TensorList state;
  for (auto& [name, tensor] : hf_state_dict(model)) state.emplace_back(name, tensor.detach());
  io::save_checkpoint(dir, state, model.config.to_json());
}

}  // namespace qsim::models::bert
