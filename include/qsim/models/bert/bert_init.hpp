#pragma once

// Hugging Face's random initialisation of BERT (BertPreTrainedModel._init_weights):
// Linear and Embedding weights ~ N(0, initializer_range), Linear biases 0, the
// padding row of an Embedding 0, LayerNorm weight 1 and bias 0. LibTorch's own
// defaults (Kaiming-uniform Linear, N(0, 1) Embedding) train a BERT from scratch
// far more slowly: with N(0, 1) word embeddings the loss sits at ln 2 for hundreds
// of steps.

#include <torch/nn/module.h>

namespace qsim::models::bert {

/// Re-initialises every qsim::nn Linear, Embedding and LayerNorm under `module`
/// (itself included) with torch's global generator.
void init_weights(torch::nn::Module& module, double initializer_range);

}  // namespace qsim::models::bert
