#pragma once

// QuantizerNode: one quantizer's state as a torch::nn module that blocks register
// as a submodule (`register_module("output_quantizer", QuantizerNode(...))`), so the
// module path is the quantizer's name everywhere (encodings JSON, configs, logs).

#include <functional>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/quant/encoding.hpp"
#include "qsim/quant/quantizer_options.hpp"

namespace qsim::quant {

class QuantizerNodeImpl : public torch::nn::Cloneable<QuantizerNodeImpl> {
 public:
  explicit QuantizerNodeImpl(QuantizerOptions options = QuantizerOptions());

  /// Registers `encoding_min`/`encoding_max` once the grid is (or was) learned.
  void reset() override;

  /// Disabled, or x of an integer/bool dtype: returns x itself (no copy, no op).
  /// Enabled: calls the observer (if any) with x, then fake-quantizes x — static
  /// grid: on the encoding(s), straight-through gradient; learned grid: gates
  /// encoding_min/max in place (§5.1) and runs range learning (§5.3, §5.4).
  /// Enabled on the static grid with no encoding yet (calibration): returns x.
  torch::Tensor forward(const torch::Tensor& x);

  /// forward() for a tensor the caller hands over (a block's freshly computed
  /// output). When nothing else can see its memory — sole owner of tensor and
  /// storage, contiguous float32 on the CPU, no autograd, no observer — the result
  /// is written over x instead of into a new tensor: the same values, without the
  /// allocation and half the memory traffic. Otherwise exactly forward(x).
  torch::Tensor forward_owned(torch::Tensor x);

  bool enabled() const { return options.enabled(); }
  void set_enabled(bool on) { options.enabled(on); }

  /// Called with the float input on every enabled forward; empty = none.
  void set_observer(std::function<void(const torch::Tensor&)> observer) { observer_ = std::move(observer); }
  /// The observer set_observer installed (empty = none), so callers can chain theirs.
  const std::function<void(const torch::Tensor&)>& observer() const { return observer_; }

  /// Static grid state: one encoding per tensor, or one per channel.
  bool has_encoding() const { return !encodings_.empty(); }
  /// The static encodings; on the learned grid, the current min/max as encodings
  /// (scale = (max − min)/N, offset = round_even(min/scale), as AIMET exports them).
  std::vector<Encoding> encodings() const;
  /// The single per-tensor encoding; throws ConfigError if none or per channel.
  Encoding encoding() const;
  /// Sets the per-tensor encoding (bitwidth must match the options).
  void set_encoding(const Encoding& encoding);
  /// Sets one encoding per channel (per tensor: exactly one).
  void set_encodings(std::vector<Encoding> encodings);
  void clear_encoding() { encodings_.clear(); }

  /// Switches to range learning: encoding_min/max = f32 of the encodings' min/max
  /// (shape [1] per tensor, [C] per channel). Throws ConfigError without encodings.
  void switch_to_learned_grid();
  /// Back to the static grid with the learned min/max as encodings (the static
  /// kernel uses only min, max and bitwidth); the parameters stay registered, frozen.
  void switch_to_static_grid();

  /// Learnable range (defined on the learned grid only).
  torch::Tensor encoding_min;
  torch::Tensor encoding_max;

  QuantizerOptions options;

 private:
  void check_encoding(const Encoding& encoding) const;

  std::vector<Encoding> encodings_;
  std::function<void(const torch::Tensor&)> observer_;
};

TORCH_MODULE(QuantizerNode);

}  // namespace qsim::quant
