#pragma once

// Gradient checkpointing of one BertLayer (internal to models): the forward keeps
// only the layer's input; the backward runs the layer again with autograd on and
// back-propagates through that recomputation. Values and gradients are those of
// the plain layer (dropout replays the same random numbers); peak memory drops to
// one layer's activations at a time, for about one extra forward of compute.

#include <torch/types.h>

#include "qsim/models/bert/bert_layer.hpp"

namespace qsim::models::bert::detail {

torch::Tensor checkpointed_layer(BertLayerImpl& layer, const torch::Tensor& hidden, const torch::Tensor& extended_mask);

}  // namespace qsim::models::bert::detail
