#include "qsim/quant/embedding_groups.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <ATen/ATen.h>

#include "detail/check.hpp"

namespace qsim::quant {

std::vector<int64_t> range_based_groups(const at::Tensor& channel_min, const at::Tensor& channel_max, int64_t groups,
                                        bool permute) {
  QSIM_CHECK(channel_min.defined() && channel_max.defined() && channel_min.numel() == channel_max.numel(),
             ValueError, "embedding groups: per-channel min and max must hold the same number of values");
  const int64_t channels = channel_min.numel();
  QSIM_CHECK(groups >= 1 && groups <= channels, ValueError,
             "embedding groups: {} groups for {} channels (expected 1..{})", groups, channels, channels);
  const at::Tensor lo = channel_min.detach().to(at::kCPU, at::kDouble).contiguous().reshape({-1});
  const at::Tensor hi = channel_max.detach().to(at::kCPU, at::kDouble).contiguous().reshape({-1});
  const double* min = lo.data_ptr<double>();
  const double* max = hi.data_ptr<double>();
  std::vector<double> range(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    range[static_cast<size_t>(c)] = max[c] - min[c];
    QSIM_CHECK(!std::isnan(range[static_cast<size_t>(c)]), ValueError,
               "embedding groups: channel {} has a NaN range [{}, {}]", c, min[c], max[c]);
  }
  std::vector<int64_t> order(static_cast<size_t>(channels));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (permute) {
    std::stable_sort(order.begin(), order.end(),
                     [&range](int64_t a, int64_t b) { return range[static_cast<size_t>(a)] < range[static_cast<size_t>(b)]; });
  }
  std::vector<int64_t> group_of(static_cast<size_t>(channels));
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t p = g * channels / groups; p < (g + 1) * channels / groups; ++p) {
      group_of[static_cast<size_t>(order[static_cast<size_t>(p)])] = g;
    }
  }
  return group_of;
}

void check_group_layout(const std::vector<int64_t>& group_of_channel, int64_t groups, std::string_view what) {
  QSIM_CHECK(groups >= 1 && static_cast<int64_t>(group_of_channel.size()) >= groups, ValueError,
             "{}: {} embedding groups need at least as many channels, got {}", what, groups, group_of_channel.size());
  std::vector<int64_t> members(static_cast<size_t>(groups), 0);
  for (size_t c = 0; c < group_of_channel.size(); ++c) {
    const int64_t g = group_of_channel[c];
    QSIM_CHECK(g >= 0 && g < groups, ValueError, "{}: channel {} is in group {}, expected 0..{}", what, c, g,
               groups - 1);
    ++members[static_cast<size_t>(g)];
  }
  for (int64_t g = 0; g < groups; ++g) {
    QSIM_CHECK(members[static_cast<size_t>(g)] > 0, ValueError, "{}: embedding group {} has no channel", what, g);
  }
}

std::vector<Encoding> expand_to_channels(const std::vector<Encoding>& group_encodings,
                                         const std::vector<int64_t>& group_of_channel) {
  std::vector<Encoding> out;
  out.reserve(group_of_channel.size());
  for (int64_t g : group_of_channel) out.push_back(group_encodings.at(static_cast<size_t>(g)));
  return out;
}

std::vector<std::vector<int64_t>> channels_of_groups(const std::vector<int64_t>& group_of_channel, int64_t groups) {
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(std::max<int64_t>(groups, 0)));
  for (size_t c = 0; c < group_of_channel.size(); ++c) {
    out.at(static_cast<size_t>(group_of_channel[c])).push_back(static_cast<int64_t>(c));
  }
  return out;
}

}  // namespace qsim::quant
