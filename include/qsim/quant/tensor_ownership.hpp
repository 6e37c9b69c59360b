#pragma once

// can_overwrite: whether an op may write its result over an input tensor. Blocks
// and quantizers use it on the temporaries they are handed (a previous op's fresh
// result): in inference, reusing that memory saves an allocation (and its page
// faults) and a pass over memory, with bit-identical values.

#include <ATen/core/Tensor.h>

namespace qsim::quant {

/// True when `x` is the only handle on its tensor and on its storage (so no view,
/// alias or autograd node can see its memory), it is a contiguous CPU tensor, and
/// no gradient will be taken through it (grad mode off, x not requiring grad).
bool can_overwrite(const at::Tensor& x);

/// True when a ⊙ b (a binary op with broadcasting and type promotion) has a's dtype
/// and shape: b broadcasts into a, so the result can take a's place or layout.
bool result_fits(const at::Tensor& a, const at::Tensor& b);

}  // namespace qsim::quant
