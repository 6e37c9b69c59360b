#include "qsim/quant/quantizer_node.hpp"

#include <cmath>

#include <torch/torch.h>

#include "detail/check.hpp"
#include "qsim/quant/embedding_groups.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/quantizer_tap.hpp"
#include "qsim/quant/range_learning.hpp"
#include "qsim/quant/tensor_ownership.hpp"

namespace qsim::quant {
namespace {

bool passes_through(const torch::Tensor& x) {
  return !x.defined() || !at::isFloatingType(x.scalar_type());
}

bool tapped(const QuantizerNodeImpl* node) { return detail::any_tap() && detail::tap_of(node) != nullptr; }

// Set while a tapped forward computes its result, so that forward's own call to
// itself runs untapped.
thread_local bool in_tapped_forward = false;


// §4.3 calculate_delta_offset for a learned range (as exported).
Encoding exported_encoding(double min, double max, int bitwidth, Symmetry symmetry) {
  Encoding e;
  e.bitwidth = bitwidth;
  e.min = min;
  e.max = max;
  e.delta = (max - min) / grid_steps(bitwidth, symmetry);
  e.offset = std::nearbyint(min / e.delta);
  return e;
}

}  // namespace

std::string_view to_string(Grid grid) {
  switch (grid) {
    case Grid::static_grid: return "static";
    case Grid::learned_grid: return "learned";
  }
  return "unknown";
}

Grid parse_grid(std::string_view name) {
  if (name == "static" || name == "static_grid") return Grid::static_grid;
  if (name == "learned" || name == "learned_grid") return Grid::learned_grid;
  throw ConfigError(fmt::format("unknown grid '{}': expected static or learned", name));
}

QuantizerNodeImpl::QuantizerNodeImpl(QuantizerOptions options_) : options(std::move(options_)) { reset(); }

void QuantizerNodeImpl::reset() {
  // A learned range stays registered (frozen) after switch_to_static_grid.
  if (options.grid() != Grid::learned_grid && !encoding_min.defined()) return;
  // Clone() calls reset() on a copy, then copies the data by name: keep the shape.
  const int64_t count = encoding_min.defined() ? encoding_min.numel() : 1;
  encoding_min = register_parameter("encoding_min", torch::zeros({count}));
  encoding_max = register_parameter("encoding_max", torch::zeros({count}));
}

// The quantize step of forward() for an enabled node: learned grid (gated in place
// first, §5.1) or static grid; on the static grid without an encoding (calibration)
// x itself. `in_place` writes the result over x (no autograd), else a new tensor.
torch::Tensor QuantizerNodeImpl::quantize(const torch::Tensor& x, bool in_place) {
  const QuantizerOptions& o = options;
  const bool groups = uses_embedding_groups();
  if (o.grid() == Grid::static_grid && encodings_.empty()) return x;
  if (groups) check_group_input(x);
  const std::optional<int64_t> axis = groups ? std::optional<int64_t>(-1) : o.channel_axis();
  torch::Tensor out = x;
  if (o.grid() == Grid::learned_grid) {
    gate_learned_range_(encoding_min, encoding_max);
    const torch::Tensor index = groups ? group_index(encoding_min.device()) : torch::Tensor();
    if (!in_place) {
      RangeLearningOptions rl;
      rl.bitwidth = o.bitwidth();
      rl.symmetry = o.symmetry();
      rl.channel_axis = axis;
      rl.scale_mode = o.scale_mode();
      rl.channel_groups = index;
      return range_learning_quantize(x, encoding_min, encoding_max, rl);
    }
    const LearnedGridParams grid = learned_grid_params(encoding_min, encoding_max, o.bitwidth(), o.symmetry());
    fake_quantize_learned_out(x, expand_groups(grid, index), axis, o.scale_mode(), out);
    return out;
  }
  const std::vector<Encoding>& encodings = groups ? channel_encodings_ : encodings_;
  if (!in_place) return fake_quantize_static(x, encodings, axis);
  fake_quantize_static_out(x, encodings, axis, out);
  return out;
}

std::optional<PreparedFakeQuant> QuantizerNodeImpl::prepare_fused(at::IntArrayRef shape) {
  if (!options.enabled() || observer_ || !fusion_enabled() || torch::GradMode::is_enabled() || tapped(this)) {
    return std::nullopt;
  }
  const bool groups = uses_embedding_groups();
  if (groups && (group_of_channel_.empty() || shape.empty() ||
                 shape.back() != static_cast<int64_t>(group_of_channel_.size()))) {
    return std::nullopt;  // the unfused path reports the mismatch
  }
  const std::optional<int64_t> axis = groups ? std::optional<int64_t>(-1) : options.channel_axis();
  if (options.grid() == Grid::learned_grid) {
    if (!encoding_min.device().is_cpu()) return std::nullopt;
    gate_learned_range_(encoding_min, encoding_max);
    const LearnedGridParams grid = learned_grid_params(encoding_min, encoding_max, options.bitwidth(), options.symmetry());
    const torch::Tensor index = groups ? group_index(encoding_min.device()) : torch::Tensor();
    return PreparedFakeQuant::learned_grid(shape, expand_groups(grid, index), axis, options.scale_mode());
  }
  if (encodings_.empty()) return std::nullopt;
  return PreparedFakeQuant::static_grid(shape, groups ? channel_encodings_ : encodings_, axis);
}

std::optional<std::vector<Encoding>> QuantizerNodeImpl::fused_static_channels(int64_t channels) {
  if (!options.enabled() || observer_ || !fusion_enabled() || torch::GradMode::is_enabled() || tapped(this)) {
    return std::nullopt;
  }
  if (options.grid() != Grid::static_grid || encodings_.empty() || options.channel_axis()) return std::nullopt;
  if (!uses_embedding_groups()) return std::vector<Encoding>(static_cast<size_t>(channels), encodings_.front());
  if (static_cast<int64_t>(group_of_channel_.size()) != channels) return std::nullopt;
  return channel_encodings_;
}

void QuantizerNodeImpl::check_group_input(const torch::Tensor& x) const {
  const auto channels = static_cast<int64_t>(group_of_channel_.size());
  QSIM_CHECK(channels > 0, ConfigError,
             "quantizer: {} embedding groups but no channel layout (calibrate, load_encodings or "
             "set_group_of_channel first)",
             options.embedding_groups());
  QSIM_CHECK(x.dim() >= 1 && x.size(-1) == channels, ValueError,
             "quantizer: {} embedding groups over {} channels, got a tensor of shape {} (the last axis is grouped)",
             options.embedding_groups(), channels, c10::str(x.sizes()));
}

const torch::Tensor& QuantizerNodeImpl::group_index(const torch::Device& device) {
  if (!group_index_.defined() || group_index_.device() != device) {
    group_index_ = torch::tensor(group_of_channel_, torch::kLong).to(device);
  }
  return group_index_;
}

void QuantizerNodeImpl::set_group_of_channel(std::vector<int64_t> group_of_channel) {
  QSIM_CHECK(uses_embedding_groups(), ConfigError,
             "quantizer: set_group_of_channel on a quantizer without embedding groups (options.embedding_groups = 0)");
  check_group_layout(group_of_channel, options.embedding_groups(), "quantizer");
  group_of_channel_ = std::move(group_of_channel);
  group_index_ = torch::Tensor();
  changed();
  // Encodings set before the layout only spread once there is one per group.
  const bool fits = static_cast<int64_t>(encodings_.size()) == options.embedding_groups();
  channel_encodings_ = fits ? expand_to_channels(encodings_, group_of_channel_) : std::vector<Encoding>{};
}

torch::Tensor QuantizerNodeImpl::forward(const torch::Tensor& x) {
  if (!in_tapped_forward && detail::any_tap()) {
    if (const QuantizerTap::Callback* tap = detail::tap_of(this)) {
      in_tapped_forward = true;
      torch::Tensor y;
      try {
        y = forward(x);
      } catch (...) {
        in_tapped_forward = false;
        throw;
      }
      in_tapped_forward = false;
      (*tap)(y);
      return y;
    }
  }
  if (!options.enabled() || passes_through(x)) return x;
  if (observer_) observer_(x);
  if (cache_output_) {
    if (cacheable(x)) return cached_forward(x);
    if (torch::GradMode::is_enabled()) drop_cached_output();  // training: no stale copy held
  }
  return quantize(x, /*in_place=*/false);
}

bool QuantizerNodeImpl::CacheKey::matches(const CacheKey& o) const {
  const QuantizerOptions& a = options;
  const QuantizerOptions& b = o.options;
  return impl == o.impl && data == o.data && version == o.version && state == o.state && range == o.range &&
         a.bitwidth() == b.bitwidth() && a.symmetry() == b.symmetry() && a.channel_axis() == b.channel_axis() &&
         a.grid() == b.grid() && a.scale_mode() == b.scale_mode() && a.embedding_groups() == b.embedding_groups();
}

// A parameter (leaf that requires grad) read without autograd; on the learned grid
// only on the CPU, where reading the range back costs nothing.
bool QuantizerNodeImpl::cacheable(const torch::Tensor& x) const {
  if (torch::GradMode::is_enabled() || observer_ || !x.is_leaf() || !x.requires_grad()) return false;
  if (options.grid() == Grid::learned_grid) return encoding_min.device().is_cpu();
  return !encodings_.empty();
}

QuantizerNodeImpl::CacheKey QuantizerNodeImpl::cache_key(const torch::Tensor& x) const {
  CacheKey key{x.unsafeGetTensorImpl(), x.data_ptr(), x._version(), state_, options, {}};
  if (options.grid() == Grid::learned_grid) {
    const torch::Tensor min = encoding_min.detach().contiguous(), max = encoding_max.detach().contiguous();
    key.range.assign(min.data_ptr<float>(), min.data_ptr<float>() + min.numel());
    key.range.insert(key.range.end(), max.data_ptr<float>(), max.data_ptr<float>() + max.numel());
  }
  return key;
}

torch::Tensor QuantizerNodeImpl::cached_forward(const torch::Tensor& x) {
  // The learned grid gates its range in place on every forward (§5.1); do it first
  // so that the key holds the range the quantization uses.
  if (options.grid() == Grid::learned_grid) gate_learned_range_(encoding_min, encoding_max);
  CacheKey key = cache_key(x);
  if (cached_output_.defined() && key.matches(cached_key_)) return cached_output_;
  cached_output_ = quantize(x, /*in_place=*/false);
  cached_key_ = std::move(key);
  return cached_output_;
}

void QuantizerNodeImpl::set_cache_output(bool on) {
  cache_output_ = on;
  if (!on) drop_cached_output();
}

void QuantizerNodeImpl::drop_cached_output() {
  cached_output_ = torch::Tensor();
  cached_key_ = CacheKey();
}

bool QuantizerNodeImpl::has_cached_output_for(const torch::Tensor& x) const {
  return cache_output_ && cached_output_.defined() && cacheable(x) && cache_key(x).matches(cached_key_);
}

torch::Tensor QuantizerNodeImpl::forward_owned(torch::Tensor x) {
  if (tapped(this)) return forward(x);
  const bool in_place = options.enabled() && !passes_through(x) && !observer_ && x.scalar_type() == at::kFloat &&
                        can_overwrite(x);
  if (!in_place) return forward(x);
  return quantize(x, /*in_place=*/true);
}

std::vector<Encoding> QuantizerNodeImpl::encodings() const {
  if (options.grid() != Grid::learned_grid) return encodings_;
  const torch::Tensor min = encoding_min.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const torch::Tensor max = encoding_max.detach().to(torch::kCPU, torch::kDouble).contiguous();
  std::vector<Encoding> out;
  for (int64_t c = 0; c < min.numel(); ++c) {
    out.push_back(exported_encoding(min.data_ptr<double>()[c], max.data_ptr<double>()[c], options.bitwidth(),
                                    options.symmetry()));
  }
  return out;
}

Encoding QuantizerNodeImpl::encoding() const {
  const std::vector<Encoding> all = encodings();
  QSIM_CHECK(!uses_embedding_groups(), ConfigError, "quantizer: {} embedding groups have {} encodings, not one",
             options.embedding_groups(), all.size());
  QSIM_CHECK(!options.channel_axis(), ConfigError, "quantizer: per-channel (axis {}) has {} encodings, not one",
             options.channel_axis().value_or(0), all.size());
  QSIM_CHECK(all.size() == 1, ConfigError, "quantizer: no encoding set (calibrate or set_encoding first)");
  return all.front();
}

void QuantizerNodeImpl::check_encoding(const Encoding& e) const {
  QSIM_CHECK(e.bitwidth == options.bitwidth(), ConfigError,
             "quantizer: encoding bitwidth {} does not match the quantizer's bitwidth {}", e.bitwidth,
             options.bitwidth());
  QSIM_CHECK(std::isfinite(e.min) && std::isfinite(e.max) && e.min <= e.max, ValueError,
             "quantizer: encoding range must be finite with min <= max, got [{}, {}]", e.min, e.max);
}

void QuantizerNodeImpl::set_encoding(const Encoding& encoding) {
  QSIM_CHECK(!options.channel_axis(), ConfigError,
             "quantizer: set_encoding on a per-channel quantizer (axis {}); use set_encodings",
             options.channel_axis().value_or(0));
  set_encodings({encoding});
}

void QuantizerNodeImpl::set_encodings(std::vector<Encoding> encodings) {
  QSIM_CHECK(!encodings.empty(), ConfigError, "quantizer: set_encodings needs at least one encoding");
  if (uses_embedding_groups()) {
    QSIM_CHECK(static_cast<int64_t>(encodings.size()) == options.embedding_groups(), ConfigError,
               "quantizer: {} embedding groups take {} encodings, got {}", options.embedding_groups(),
               options.embedding_groups(), encodings.size());
  } else {
    QSIM_CHECK(options.channel_axis() || encodings.size() == 1, ConfigError,
               "quantizer: per-tensor quantizer takes 1 encoding, got {}", encodings.size());
  }
  for (const Encoding& e : encodings) check_encoding(e);
  encodings_ = std::move(encodings);
  if (!group_of_channel_.empty()) channel_encodings_ = expand_to_channels(encodings_, group_of_channel_);
  changed();
  if (options.grid() == Grid::learned_grid) switch_to_learned_grid();
}

void QuantizerNodeImpl::switch_to_learned_grid() {
  QSIM_CHECK(!encodings_.empty(), ConfigError, "quantizer: switch_to_learned_grid needs an encoding to start from");
  std::vector<float> min, max;
  for (const Encoding& e : encodings_) {
    check_encoding(e);
    min.push_back(static_cast<float>(e.min));
    max.push_back(static_cast<float>(e.max));
  }
  const auto count = static_cast<int64_t>(min.size());
  options.grid(Grid::learned_grid);
  if (!encoding_min.defined()) {
    encoding_min = register_parameter("encoding_min", torch::zeros({count}));
    encoding_max = register_parameter("encoding_max", torch::zeros({count}));
  }
  torch::NoGradGuard no_grad;
  // On the device the node's parameters already live on (model->to(cuda) moved them).
  encoding_min.set_data(torch::tensor(min).to(encoding_min.device()));
  encoding_max.set_data(torch::tensor(max).to(encoding_max.device()));
  encoding_min.set_requires_grad(true);
  encoding_max.set_requires_grad(true);
  changed();
}

void QuantizerNodeImpl::switch_to_static_grid() {
  if (options.grid() != Grid::learned_grid) return;
  encodings_ = encodings();
  if (!group_of_channel_.empty()) channel_encodings_ = expand_to_channels(encodings_, group_of_channel_);
  options.grid(Grid::static_grid);
  changed();
  encoding_min.set_requires_grad(false);
  encoding_max.set_requires_grad(false);
}

}  // namespace qsim::quant
