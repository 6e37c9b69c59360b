#pragma once

// The BERT graph of a models::bert::BertForTask as ONNX nodes, block by block, in
// the order the simulation runs them (semantics §7.3 / §7.5), calling
// QuantizerSites at every quantizer slot:
//   embeddings   Gather ×3 (position ids = Range over the sequence), Add ×2,
//                LayerNormalization, (dropout)
//   Linear       Transpose(weight) → MatMul → Add(bias): the output quantizer
//                after the bias, as in the simulation
//   attention    Reshape/Transpose into heads, MatMul, Div by √d, Add of the mask
//                (built once from the attention_mask input: hf −10000 / zoo −6 /
//                custom), Softmax, MatMul, heads merged back
//   GELU         exact erf form; pooler Tanh; heads: logits, or start/end logits

#include <string>
#include <vector>

#include "deploy/onnx_graph.hpp"
#include "deploy/quantizer_sites.hpp"
#include "qsim/deploy/onnx_export.hpp"
#include "qsim/models/bert/bert_for_task.hpp"

namespace qsim::deploy::detail {

/// Adds inputs (input_ids, attention_mask, token_type_ids: int64 [batch, sequence]),
/// every node and initializer, and the outputs; returns the output names.
std::vector<std::string> write_bert_graph(const models::bert::BertForTask& model, GraphBuilder& graph,
                                          QuantizerSites& sites, const OnnxExportOptions& options);

}  // namespace qsim::deploy::detail
