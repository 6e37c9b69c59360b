#pragma once

// QuantizerNode: one quantizer's state as a torch::nn module that blocks register
// as a submodule (`register_module("output_quantizer", QuantizerNode(...))`), so the
// module path is the quantizer's name everywhere (encodings JSON, configs, logs).

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/quant/encoding.hpp"
#include "qsim/quant/prepared_fake_quant.hpp"
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

  /// Fusion (prepared_fake_quant.hpp): the quantization forward_owned would apply
  /// to a fresh float32 CPU output of `shape` that the caller owns, prepared so
  /// that the producing op can apply it piece by piece. Empty when it cannot be
  /// fused: disabled, observed (calibration), no encoding yet, grad mode on, a
  /// learned range off the CPU, or fusion switched off (FusionGuard). A learned
  /// range is gated now, as forward would gate it.
  std::optional<PreparedFakeQuant> prepare_fused(at::IntArrayRef shape);

  /// For ops that compute several quantized tensors in one pass (BERT's fused Q/K/V
  /// projection): this quantizer's static encodings spread over `channels` channels
  /// of the last axis (per tensor: one encoding repeated; embedding groups: each
  /// channel its group's), when it could be fused as prepare_fused says and is on
  /// the static grid; else empty.
  std::optional<std::vector<Encoding>> fused_static_channels(int64_t channels);

  /// Frozen-output cache, for parameter quantizers in inference: while grad mode
  /// is off and the input is the same parameter (same tensor, data pointer and
  /// version counter) with the same encodings and options, forward returns the
  /// result of the previous call instead of quantizing again (bit-identical). Off
  /// by default; QuantSim turns it on for parameter slots (SimOptions::
  /// cache_quantized_weights). The cached copy is dropped by a forward with grad
  /// mode on, by drop_cached_output(), and replaced when anything in the key
  /// changes. Writes that bypass the version counter (through .data() or a raw
  /// pointer) are not seen: call drop_cached_output() after them.
  void set_cache_output(bool on);
  bool caches_output() const { return cache_output_; }
  void drop_cached_output();
  /// Whether the next forward of `x` would return the cached result (for tests).
  bool has_cached_output_for(const torch::Tensor& x) const;

  bool enabled() const { return options.enabled(); }
  void set_enabled(bool on) { options.enabled(on); }

  /// Called with the float input on every enabled forward; empty = none.
  void set_observer(std::function<void(const torch::Tensor&)> observer) { observer_ = std::move(observer); }
  /// The observer set_observer installed (empty = none), so callers can chain theirs.
  const std::function<void(const torch::Tensor&)>& observer() const { return observer_; }

  /// Static grid state: one encoding per tensor, one per channel, or one per
  /// embedding group.
  bool has_encoding() const { return !encodings_.empty(); }
  /// The static encodings; on the learned grid, the current min/max as encodings
  /// (scale = (max − min)/N, offset = round_even(min/scale), as AIMET exports them).
  std::vector<Encoding> encodings() const;
  /// The single per-tensor encoding; throws ConfigError if none or per channel.
  Encoding encoding() const;
  /// Sets the per-tensor encoding (bitwidth must match the options).
  void set_encoding(const Encoding& encoding);
  /// Sets one encoding per channel (per tensor: exactly one; embedding groups: one
  /// per group, in group order).
  void set_encodings(std::vector<Encoding> encodings);
  void clear_encoding() {
    encodings_.clear();
    channel_encodings_.clear();
    changed();
  }

  /// Switches to range learning: encoding_min/max = f32 of the encodings' min/max
  /// (shape [1] per tensor, [C] per channel). Throws ConfigError without encodings.
  void switch_to_learned_grid();
  /// Back to the static grid with the learned min/max as encodings (the static
  /// kernel uses only min, max and bitwidth); the parameters stay registered, frozen.
  void switch_to_static_grid();

  /// Embedding groups (options.embedding_groups() = K > 0): channel c of the last
  /// axis uses group group_of_channel[c] (embedding_groups.hpp). Set by calibration
  /// or load_encodings; ValueError unless K > 0, every entry is in [0, K) and
  /// every group has a channel. A tensor whose last axis is not C long is a ValueError.
  void set_group_of_channel(std::vector<int64_t> group_of_channel);
  const std::vector<int64_t>& group_of_channel() const { return group_of_channel_; }
  bool uses_embedding_groups() const { return options.embedding_groups() > 0; }

  /// Learnable range (defined on the learned grid only).
  torch::Tensor encoding_min;
  torch::Tensor encoding_max;

  QuantizerOptions options;

 private:
  void check_encoding(const Encoding& encoding) const;
  torch::Tensor quantize(const torch::Tensor& x, bool in_place);
  void check_group_input(const torch::Tensor& x) const;
  const torch::Tensor& group_index(const torch::Device& device);

  struct CacheKey {
    const c10::TensorImpl* impl = nullptr;
    const void* data = nullptr;
    int64_t version = 0;
    uint64_t state = 0;
    QuantizerOptions options;
    std::vector<float> range;  // learned grid: the gated min and max values
    bool matches(const CacheKey& other) const;
  };
  bool cacheable(const torch::Tensor& x) const;
  CacheKey cache_key(const torch::Tensor& x) const;
  torch::Tensor cached_forward(const torch::Tensor& x);
  void changed() { ++state_; }

  std::vector<Encoding> encodings_;
  uint64_t state_ = 0;  // bumped whenever encodings, layout or grid change
  bool cache_output_ = false;
  CacheKey cached_key_;
  torch::Tensor cached_output_;
  std::vector<int64_t> group_of_channel_;
  std::vector<Encoding> channel_encodings_;  // encodings_ spread to the channels (embedding groups)
  torch::Tensor group_index_;                // group_of_channel_ as int64, on the last device used
  std::function<void(const torch::Tensor&)> observer_;
};

TORCH_MODULE(QuantizerNode);

}  // namespace qsim::quant
