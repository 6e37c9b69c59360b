#pragma once

// Taps: see what a quantizer node hands on, for tools that compare a quantized
// model with its FP32 self block by block (ptq::block_errors) or measure it
// (MACs for BitOps, histograms of what calibration saw). A tap is called on every
// forward of its node with the tensor the node returns — the fake-quantized tensor
// when the node is on, its input itself when it is off — so one set of taps sees
// the FP32 and the quantized model alike. A tapped node runs unfused (the fused
// paths never materialize its output). Taps live outside the node so that the
// forward pays one relaxed atomic load while none exists.
//
//   quant::QuantizerTap tap(block->output_quantizer, [&](const at::Tensor& y) { sum += y.sum(); });
//   model(ids, types, mask);  // tap called once per forward of that node

#include <functional>

#include <ATen/core/Tensor.h>

#include "qsim/quant/quantizer_node.hpp"

namespace qsim::quant {

class QuantizerTap {
 public:
  using Callback = std::function<void(const at::Tensor&)>;
  /// Taps `node` for this object's lifetime. One tap per node at a time
  /// (ValueError naming nothing better than "this quantizer" otherwise).
  QuantizerTap(const QuantizerNode& node, Callback callback);
  ~QuantizerTap();
  QuantizerTap(const QuantizerTap&) = delete;
  QuantizerTap& operator=(const QuantizerTap&) = delete;

 private:
  const QuantizerNodeImpl* node_;
};

namespace detail {
/// Whether any tap exists (cheap: the forward checks this first).
bool any_tap();
/// The tap on `node`, or null.
const QuantizerTap::Callback* tap_of(const QuantizerNodeImpl* node);
}  // namespace detail

}  // namespace qsim::quant
