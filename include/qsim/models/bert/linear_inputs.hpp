#pragma once

// Where each Linear block of a BERT model gets its input from, in quantizer terms:
// the quantizer whose grid the input lies on. In AIMET's default placement a Linear's
// own input slot is off and its input is the previous op's quantized output (the
// LayerNorm before Q/K/V, the GELU before the FFN's second dense, ...). A real integer
// backend needs that encoding to read the input as integers (sim/int8_backend.hpp).

#include <string>
#include <vector>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/quant/quantizer_node.hpp"

namespace qsim::models::bert {

struct LinearInput {
  std::string name;  ///< the Linear's module name, e.g. "bert.encoder.layer.0.attention.self.query"
  nn::Linear linear;
  /// The enabled quantizer whose output reaches this Linear unchanged (its own input
  /// quantizer when that is on; else the producer's output quantizer, skipping
  /// disabled dropouts, which are identities in inference); null when the input is
  /// not on a quantization grid.
  quant::QuantizerNode source{nullptr};
};

/// Every Linear of `model` (encoder, pooler, task head), in module order.
std::vector<LinearInput> linear_inputs(BertForTask& model);

}  // namespace qsim::models::bert
