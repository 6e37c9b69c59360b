#pragma once

// Per-embedding-group (PEG) activation quantization (Bondarenko, Nagel and
// Blankevoort, EMNLP 2021, §4.3): the last axis of an activation — BERT's hidden
// (embedding) dimension — is split into K groups, each with its own encoding.
// A range-based permutation first sorts the channels by their calibrated range, so
// the few outlier dimensions of a residual stream share one group instead of
// stretching every group's grid. K = 1 is per-tensor, K = C per-channel.
//
// The layout is a list `group_of_channel` (one group index per channel). Numerically
// a PEG quantizer is a per-channel quantizer along the last axis whose channels of a
// group carry the same encoding; range learning keeps one min/max per group.

#include <cstdint>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "qsim/quant/encoding.hpp"

namespace qsim::quant {

/// The groups of `channels` channels: sorted by range max − min ascending (ties keep
/// channel order) when `permute`, else in channel order, then cut into `groups` runs
/// of near-equal size (run g holds positions [g·C/K, (g+1)·C/K), integer division),
/// so the widest channels land in group K − 1. `channel_min` / `channel_max` are the
/// per-channel calibration extremes (any float dtype, C values each). Throws
/// ValueError when they differ in size, hold NaN, or groups is not in [1, C].
std::vector<int64_t> range_based_groups(const at::Tensor& channel_min, const at::Tensor& channel_max, int64_t groups,
                                        bool permute = true);

/// Throws ValueError unless every entry is in [0, groups) and every group has a
/// channel. `what` names the quantizer in the message.
void check_group_layout(const std::vector<int64_t>& group_of_channel, int64_t groups, std::string_view what);

/// Channel c gets group_encodings[group_of_channel[c]].
std::vector<Encoding> expand_to_channels(const std::vector<Encoding>& group_encodings,
                                         const std::vector<int64_t>& group_of_channel);

/// The channels of each group, in channel order.
std::vector<std::vector<int64_t>> channels_of_groups(const std::vector<int64_t>& group_of_channel, int64_t groups);

}  // namespace qsim::quant
