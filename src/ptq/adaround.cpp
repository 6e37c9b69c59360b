// ptq::adaround: AdaRound over a BERT built from qsim blocks, layer by layer in
// forward order (qsim/ptq/adaround.hpp).

#include "qsim/ptq/adaround.hpp"

#include <chrono>

#include <torch/torch.h>

#include "detail/check.hpp"
#include "ptq/layer_capture.hpp"
#include "qsim/log.hpp"
#include "qsim/nn/embedding.hpp"
#include "qsim/nn/linear.hpp"

namespace qsim::ptq {
namespace {

// A layer to round: its module, weight quantizer and grid.
struct Layer {
  std::string path;
  nn::LinearImpl* linear = nullptr;
  nn::EmbeddingImpl* embedding = nullptr;
  std::string slot;
  WeightGrid grid;
  AdaroundActivation activation = AdaroundActivation::none;
  torch::Tensor& weight() const { return linear != nullptr ? linear->weight : embedding->weight; }
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// BERT's activations that follow a Linear: the intermediate dense's GELU, the pooler's Tanh.
AdaroundActivation activation_after(const std::string& path, const AdaroundOptions& o) {
  if (!o.include_activation()) return AdaroundActivation::none;
  if (ends_with(path, ".intermediate.dense")) return AdaroundActivation::gelu;
  if (ends_with(path, "pooler.dense")) return AdaroundActivation::tanh;
  return AdaroundActivation::none;
}

std::optional<Layer> layer_of(const std::string& path, torch::nn::Module& module, const sim::QuantSim& sim,
                              const AdaroundOptions& o) {
  Layer layer;
  layer.path = path;
  layer.linear = dynamic_cast<nn::LinearImpl*>(&module);
  layer.embedding = dynamic_cast<nn::EmbeddingImpl*>(&module);
  layer.slot = path + ".weight_quantizer";
  if (layer.linear == nullptr && (layer.embedding == nullptr || !o.embeddings())) return std::nullopt;
  QSIM_CHECK(layer.linear == nullptr || !layer.linear->kernel, ConfigError,
             "adaround: Linear '{}' has a kernel attached (e.g. the int8 backend): detach it first", path);
  const sim::QuantizerSlot& slot = sim.slot(layer.slot);
  if (!slot.active) return std::nullopt;
  const quant::QuantizerOptions& q = slot.node->options;
  QSIM_CHECK(o.bitwidth() == 0 || o.bitwidth() == q.bitwidth(), ConfigError,
             "adaround: bitwidth {}, but weight quantizer '{}' takes {} (set SimOptions::param_bitwidth)", o.bitwidth(),
             layer.slot, q.bitwidth());
  QSIM_CHECK(!q.channel_axis() || *q.channel_axis() == 0, ConfigError,
             "adaround: weight quantizer '{}' has channels along axis {}; AdaRound rounds per output channel (axis 0)",
             layer.slot, *q.channel_axis());
  QSIM_CHECK(q.grid() == quant::Grid::static_grid, ConfigError,
             "adaround: weight quantizer '{}' is on the learned grid; AdaRound needs its static encoding", layer.slot);
  layer.grid = WeightGrid::from_encodings(slot.node->encodings(), layer.slot);
  layer.activation = activation_after(path, o);
  return layer;
}

// The layers to round, in forward order (embeddings first).
std::vector<Layer> layers_of(models::bert::BertForTask& model, const sim::QuantSim& sim, const AdaroundOptions& o) {
  std::vector<Layer> embeddings, linears;
  for (const auto& item : model->named_modules()) {
    if (auto layer = layer_of(item.key(), *item.value(), sim, o)) {
      (layer->linear != nullptr ? linears : embeddings).push_back(std::move(*layer));
    }
  }
  QSIM_CHECK(!linears.empty(), ConfigError, "adaround: the model has no Linear with an active weight quantizer");
  embeddings.insert(embeddings.end(), linears.begin(), linears.end());
  return embeddings;
}

// Which quantizers run: parameters, activations, both or neither.
void set_quantizers(const sim::QuantSim& sim, bool params, bool activations) {
  for (const sim::QuantizerSlot& s : sim.quantizers()) {
    s.node.ptr()->set_enabled(s.active && (s.kind == sim::SlotKind::param ? params : activations));
  }
}

// The ids an embedding looked up on the plan's token rows.
at::Tensor looked_up_ids(const std::string& path, const train::TaskDataset& data, const detail::RowPlan& plan) {
  std::vector<at::Tensor> ids;
  for (int64_t b = 0; b < plan.batches(); ++b) {
    const train::TaskBatch batch = data.batch(b * plan.batch_size, std::min(data.size(), (b + 1) * plan.batch_size));
    at::Tensor source = batch.input_ids;
    if (ends_with(path, "token_type_embeddings")) source = batch.token_type_ids;
    if (ends_with(path, "position_embeddings")) {
      source = at::arange(batch.input_ids.size(1), at::kLong).expand_as(batch.input_ids);
    }
    ids.push_back(source.reshape({-1}).index_select(0, plan.tokens[static_cast<std::size_t>(b)]));
  }
  return at::cat(ids);
}

// The FP32 weights of the layers already rounded, swapped in for the FP32 passes.
class WeightSwap {
 public:
  void keep(const Layer& layer, const at::Tensor& fp32, const at::Tensor& rounded) {
    layers_.push_back({&layer.weight(), fp32, rounded});
  }
  void use_fp32() const {
    for (const auto& l : layers_) l.param->set_data(l.fp32);
  }
  void use_rounded() const {
    for (const auto& l : layers_) l.param->set_data(l.rounded);
  }

 private:
  struct Entry {
    torch::Tensor* param;
    at::Tensor fp32, rounded;
  };
  std::vector<Entry> layers_;
};

// Puts the sim's mode, the model's training flag and the rounded weights back
// however the run ends.
class Restore {
 public:
  Restore(sim::QuantSim& sim, models::bert::BertForTask& model, const WeightSwap& swap)
      : sim_(sim),
        model_(model),
        swap_(swap),
        mode_(sim.mode()),
        training_(model->is_training()),
        skip_padding_(model->bert->skip_padding) {
    model_->bert->skip_padding = false;  // the cache indexes the padded [B, L] token grid
  }
  ~Restore() {
    swap_.use_rounded();
    sim_.set_mode(mode_);
    model_->train(training_);
    model_->bert->skip_padding = skip_padding_;
  }
  Restore(const Restore&) = delete;
  Restore& operator=(const Restore&) = delete;

 private:
  sim::QuantSim& sim_;
  models::bert::BertForTask& model_;
  const WeightSwap& swap_;
  sim::Mode mode_;
  bool training_;
  bool skip_padding_;
};

AdaroundLayerResult named(const Layer& layer) {
  AdaroundLayerResult r;
  r.name = layer.path;
  return r;
}

// Rounds `group` (layers that read one tensor) and writes the results into the model.
void round_linears(const std::vector<const Layer*>& group, const std::vector<at::Tensor>& quantized_inputs,
                   const std::vector<at::Tensor>& fp32_inputs, sim::QuantSim& sim, const AdaroundOptions& o,
                   WeightSwap& swap, AdaroundResult& out) {
  for (std::size_t i = 0; i < group.size(); ++i) {
    const Layer& layer = *group[i];
    const at::Tensor fp32 = layer.linear->weight.detach().clone();
    const at::Tensor targets = at::linear(fp32_inputs[i], fp32, layer.linear->bias);
    AdaroundLayerResult r = named(layer);
    const at::Tensor rounded =
        adaround_weight(fp32, layer.linear->bias, layer.grid, quantized_inputs[i], targets, layer.activation, o, r);
    layer.linear->weight.set_data(rounded.to(fp32.device()));
    swap.keep(layer, fp32, layer.linear->weight.detach());
    sim.set_frozen(layer.slot, true);
    if (o.on_layer()) o.on_layer()(r);
    out.layers.push_back(std::move(r));
  }
}

void round_embedding(const Layer& layer, const train::TaskDataset& data, const detail::RowPlan& plan,
                     sim::QuantSim& sim, const AdaroundOptions& o, WeightSwap& swap, AdaroundResult& out) {
  const at::Tensor fp32 = layer.embedding->weight.detach().clone();
  AdaroundLayerResult r = named(layer);
  const at::Tensor rounded = adaround_embedding(fp32, layer.grid, looked_up_ids(layer.path, data, plan), o, r);
  layer.embedding->weight.set_data(rounded.to(fp32.device()));
  swap.keep(layer, fp32, layer.embedding->weight.detach());
  sim.set_frozen(layer.slot, true);
  if (o.on_layer()) o.on_layer()(r);
  out.layers.push_back(std::move(r));
}

}  // namespace

AdaroundResult adaround(sim::QuantSim& sim, models::bert::BertForTask& model, const train::TaskDataset& data,
                        const AdaroundOptions& options) {
  validate(options);
  QSIM_CHECK(sim.model().get() == model.ptr().get(), ConfigError, "adaround: `model` is not the model the QuantSim wraps");
  QSIM_CHECK(!options.keep_activation_quantizers() || sim.calibrated(), ConfigError,
             "adaround: keep_activation_quantizers needs activation encodings: call compute_encodings first");
  QSIM_CHECK(data.size() > 0, ConfigError, "adaround: no data to cache the layers' inputs from");
  for (const auto& p : model->parameters()) {
    QSIM_CHECK(p.device().is_cpu(), ConfigError, "adaround: runs on the CPU; the model is on {}", p.device().str());
  }
  if (sim.calibrated()) logger()->warn("adaround: the activation encodings predate the rounding: calibrate again");
  const auto start = std::chrono::steady_clock::now();
  WeightSwap swap;
  const Restore restore(sim, model, swap);
  model->eval();
  torch::NoGradGuard no_grad;
  sim.compute_param_encodings();
  const std::vector<Layer> layers = layers_of(model, sim, options);
  const detail::RowPlan plan =
      detail::plan_rows(data, options.batches(), options.batch_size(), options.max_rows(), options.seed());
  logger()->info("adaround: {} layers, {} batches of {}, {} iterations each", layers.size(), plan.batches(),
                 options.batch_size(), options.iterations());
  AdaroundResult out;
  for (std::size_t i = 0; i < layers.size();) {
    if (layers[i].embedding != nullptr) {
      round_embedding(layers[i++], data, plan, sim, options, swap, out);
      continue;
    }
    std::vector<nn::LinearImpl*> candidates;
    for (std::size_t j = i; j < layers.size(); ++j) candidates.push_back(layers[j].linear);
    set_quantizers(sim, /*params=*/true, options.keep_activation_quantizers());
    const std::vector<at::Tensor> quantized = detail::capture_inputs(model, data, plan, candidates, true);
    candidates.resize(quantized.size());
    set_quantizers(sim, false, false);
    swap.use_fp32();
    const std::vector<at::Tensor> fp32 = detail::capture_inputs(model, data, plan, candidates, false);
    swap.use_rounded();
    std::vector<const Layer*> group;
    for (std::size_t j = 0; j < quantized.size(); ++j) group.push_back(&layers[i + j]);
    round_linears(group, quantized, fp32, sim, options, swap, out);
    i += quantized.size();
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  logger()->info("adaround: {} layers in {:.0f} s", out.layers.size(), out.seconds);
  return out;
}

}  // namespace qsim::ptq
