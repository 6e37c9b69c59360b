#include "deploy/tensor_encodings.hpp"

#include "deploy/quantizer_grid.hpp"
#include "qsim/quant/embedding_groups.hpp"
#include "qsim/sim/encodings_file.hpp"

namespace qsim::deploy::detail {
namespace {

// A slot's encodings, one per channel where it has channels.
std::vector<quant::Encoding> exported_encodings(const sim::QuantizerSlot& slot, LearnedEncodings learned) {
  const quant::QuantizerNodeImpl& node = *slot.node;
  if (node.options.grid() == quant::Grid::learned_grid && learned == LearnedEncodings::forward_grid) {
    return grid_encodings(quantizer_grid(slot));
  }
  const std::vector<quant::Encoding> encodings = node.encodings();
  return node.uses_embedding_groups() ? quant::expand_to_channels(encodings, node.group_of_channel()) : encodings;
}

}  // namespace

nlohmann::json tensor_encodings_json(const sim::QuantSim& sim, const std::vector<ExportedQuantizer>& quantizers,
                                     LearnedEncodings learned) {
  nlohmann::json activations = nlohmann::json::object();
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json groups = nlohmann::json::object();
  for (const ExportedQuantizer& q : quantizers) {
    const sim::QuantizerSlot& slot = sim.slot(q.quantizer);
    const bool symmetric = slot.node->options.symmetry() != quant::Symmetry::asymmetric;
    nlohmann::json list = nlohmann::json::array();
    for (const quant::Encoding& e : exported_encodings(slot, learned)) list.push_back(sim::encoding_to_json(e, symmetric));
    (q.parameter ? params : activations)[q.tensor] = std::move(list);
    if (slot.node->uses_embedding_groups()) groups[q.tensor] = slot.node->group_of_channel();
  }
  nlohmann::json out{{"version", sim::kEncodingsVersion},
                     {"activation_encodings", std::move(activations)},
                     {"param_encodings", std::move(params)},
                     {"excluded_layers", nlohmann::json::array()}};
  if (!groups.empty()) out["embedding_groups"] = std::move(groups);
  return out;
}

}  // namespace qsim::deploy::detail
