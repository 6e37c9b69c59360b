#pragma once

// Fake quant prepared once and applied in place to pieces of a tensor: what lets
// an op fuse the quantizer that follows it into its own pass. The op computes its
// output piece by piece (a block of GEMM rows, a chunk of an elementwise op) and
// quantizes each piece right away, while it is still in cache, instead of writing
// the whole tensor and reading it back. Element i gets exactly the value the
// unfused fake_quantize_static / fake_quantize_learned give it: the kernels are
// elementwise and take each element's channel from its flat index.
//
// Fusion can be switched off per thread (FusionGuard), so tests can compare the
// fused and the unfused paths bit for bit.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "qsim/quant/encoding.hpp"
#include "qsim/quant/fake_quant.hpp"

namespace qsim::quant {

class PreparedFakeQuant {
 public:
  /// Static grid (§2) for a contiguous float32 CPU tensor of `shape`.
  static PreparedFakeQuant static_grid(at::IntArrayRef shape, const std::vector<Encoding>& encodings,
                                       std::optional<int64_t> axis);
  /// Learned grid (§5.3) with the grid parameters of learned_grid_params (gated).
  static PreparedFakeQuant learned_grid(at::IntArrayRef shape, const LearnedGridParams& params,
                                        std::optional<int64_t> axis, ScaleMode mode);

  /// Quantizes data[begin, end) in place, on the calling thread. `data` is the
  /// first element of the whole tensor (flat offsets decide the channels).
  void apply(float* data, int64_t begin, int64_t end) const;
  /// The whole tensor, in place, on ATen's threads.
  void apply_all(at::Tensor& tensor) const;

  struct State;

 private:
  explicit PreparedFakeQuant(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

/// Whether ops may fuse their output quantizer on this thread (default true).
bool fusion_enabled();

/// How many quantizers this thread has prepared for fusion so far (tests check
/// that a fused path really ran).
int64_t fused_quantizer_count();

/// Turns fusion on or off for the calling thread while it lives.
class FusionGuard {
 public:
  explicit FusionGuard(bool enabled);
  ~FusionGuard();
  FusionGuard(const FusionGuard&) = delete;
  FusionGuard& operator=(const FusionGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace qsim::quant
