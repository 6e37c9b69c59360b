#pragma once

// Name patterns (for SimOptions' bitwidth_overrides and embedding_groups) that pick
// out the BERT activations Bondarenko, Nagel and Blankevoort (EMNLP 2021) found
// hardest to quantize: the residual stream after each layer's feed-forward network,
// whose few outlier dimensions set the range of the whole tensor.

namespace qsim::models::bert {

/// In every encoder layer: the FFN output (output.dense), its dropout, and the
/// residual sum (output.add), i.e. the input of the layer's last LayerNorm.
inline constexpr const char* kFfnResidualQuantizers =
    R"(encoder\.layer\.\d+\.output\.(dense|dropout|add)\.output_quantizer$)";

}  // namespace qsim::models::bert
