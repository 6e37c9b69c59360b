#include "qsim/quant/quantizer_tap.hpp"

#include <atomic>
#include <unordered_map>

#include "detail/check.hpp"

namespace qsim::quant {
namespace {

// Installed and removed while no forward runs (tools set them up around a pass);
// the forward only reads.
std::unordered_map<const QuantizerNodeImpl*, QuantizerTap::Callback>& taps() {
  static std::unordered_map<const QuantizerNodeImpl*, QuantizerTap::Callback> map;
  return map;
}
std::atomic<int> tap_count{0};

}  // namespace

QuantizerTap::QuantizerTap(const QuantizerNode& node, Callback callback) : node_(node.get()) {
  QSIM_CHECK(node_ != nullptr && static_cast<bool>(callback), ValueError, "quantizer tap: needs a node and a callback");
  QSIM_CHECK(taps().emplace(node_, std::move(callback)).second, ValueError,
             "quantizer tap: this quantizer is already tapped");
  tap_count.fetch_add(1, std::memory_order_relaxed);
}

QuantizerTap::~QuantizerTap() {
  taps().erase(node_);
  tap_count.fetch_sub(1, std::memory_order_relaxed);
}

namespace detail {

bool any_tap() { return tap_count.load(std::memory_order_relaxed) > 0; }

const QuantizerTap::Callback* tap_of(const QuantizerNodeImpl* node) {
  const auto it = taps().find(node);
  return it == taps().end() ? nullptr : &it->second;
}

}  // namespace detail
}  // namespace qsim::quant
