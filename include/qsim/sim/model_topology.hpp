#pragma once

// The few dataflow facts QuantSim's config rules need that a module tree does not
// carry (AIMET reads them off its ConnectedGraph, semantics §7.2):
//  * which blocks read model inputs (model_input rule) or produce model outputs
//    (model_output rule);
//  * functional elementwise ops (Add, Mul, Div, Concat written as `a / b`, not
//    modules): setting their output "quantized" enables the input quantizers of
//    the blocks that consume them;
//  * block → block edges, along which supergroups (op-type chains) are matched;
//  * BERT's attention mask_add blocks, for the §7.4 override.
// bert_topology() derives all of it for the BERT graphs of qsim::models::bert; any
// other model passes its own (an empty topology means: none of the above).

#include <string>
#include <vector>

#include <torch/nn/module.h>

namespace qsim::sim {

/// A functional elementwise op: no quantizer of its own.
struct FunctionalOp {
  std::string name;                    ///< for messages, e.g. "encoder.layer.0.attention.self.(div)"
  std::string op_type;                 ///< ONNX type: "Div", "Mul", "Add", "Concat"
  std::vector<std::string> producers;  ///< block paths whose output it reads
  std::vector<std::string> consumers;  ///< block paths that read its output
};

/// A producer → consumer edge between two blocks (module paths).
struct Edge {
  std::string from;
  std::string to;
};

struct ModelTopology {
  std::vector<std::string> model_inputs;
  std::vector<std::string> model_outputs;
  std::vector<FunctionalOp> functional_ops;
  std::vector<Edge> edges;
  std::vector<std::string> mask_add_blocks;
};

/// The topology of a qsim::models::bert::BertForTask or BertModel (recognised by
/// type; throws ConfigError for any other model): model inputs are the word and
/// token-type embeddings (position ids are generated inside), the functional
/// `/ sqrt(d)` Div and the mask's Mul feed each mask_add, and model outputs are the
/// head (classifier / qa_outputs) or, for BertModel, the last LayerNorm and pooler.
ModelTopology bert_topology(const torch::nn::Module& model);

/// bert_topology for BERT models, an empty topology otherwise.
ModelTopology infer_topology(const torch::nn::Module& model);

}  // namespace qsim::sim
