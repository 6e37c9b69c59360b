#pragma once

// How BERT's self-attention masks padded keys (quantization-semantics.md §7.3).
//   hf:     scores + (1 − mask)·(−10000)               (transformers 4.11, float)
//   zoo:    scores + le((1 − mask)·(−10000), −1) · −6   (AIMET model zoo; an int64
//           tensor of 0 / −6 that the mask_add block promotes to float)
//   custom: scores + (1 − mask)·value                  (float)
// The extended mask is built once per forward by BertModel; the zoo's le(·)·−6 step
// runs inside each self-attention, functionally (no quantizer), as in the zoo graph.

#include <string_view>

#include <ATen/ATen.h>

namespace qsim::models::bert {

enum class MaskMode { hf, zoo, custom };

/// Example: `AttentionMask::zoo()`, `AttentionMask::parse("-6.5")`.
struct AttentionMask {
  MaskMode mode = MaskMode::hf;
  /// The value added to masked keys in custom mode (ignored otherwise).
  double custom_value = -10000.0;

  static AttentionMask hf() { return {MaskMode::hf, -10000.0}; }
  static AttentionMask zoo() { return {MaskMode::zoo, -10000.0}; }
  static AttentionMask custom(double value) { return {MaskMode::custom, value}; }
  /// "hf", "zoo" or a finite number (custom); throws qsim::ConfigError naming `text`.
  static AttentionMask parse(std::string_view text);

  /// [B, L] 0/1 mask → the extended float mask [B, 1, 1, L] that BertModel hands
  /// every layer: (1 − mask)·(−10000) for hf and zoo, (1 − mask)·value for custom.
  at::Tensor extend(const at::Tensor& attention_mask, at::ScalarType dtype) const;
  /// What self-attention adds to its scaled scores: the extended mask itself, or for
  /// zoo the int64 tensor le(extended, −1)·−6.
  at::Tensor key_mask(const at::Tensor& extended) const;
};

}  // namespace qsim::models::bert
