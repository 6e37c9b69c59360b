#include "qsim/models/bert/bert_model.hpp"

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "detail/check.hpp"
#include "qsim/models/bert/bert_init.hpp"
#include "qsim/quant/quantizer_node.hpp"

namespace qsim::models::bert {
namespace {

std::string shape_of(const torch::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes(), ", ")); }

// Integer [B, L] tensor with values in [0, limit); returned as int64.
torch::Tensor check_ids(const torch::Tensor& ids, const char* name, int64_t limit, const char* limit_name,
                        at::IntArrayRef shape) {
  QSIM_CHECK(!at::isFloatingType(ids.scalar_type()) && !at::isComplexType(ids.scalar_type()) &&
                 ids.scalar_type() != at::kBool,
             ValueError, "'{}': expected an integer tensor, got {}", name, c10::toString(ids.scalar_type()));
  QSIM_CHECK(ids.sizes() == shape, ValueError, "'{}': shape {}, expected [{}] like input_ids", name,
             shape_of(ids), fmt::join(shape, ", "));
  torch::Tensor out = ids.to(at::kLong);
  if (out.numel() > 0) {
    const int64_t low = out.min().item<int64_t>();
    const int64_t high = out.max().item<int64_t>();
    QSIM_CHECK(low >= 0 && high < limit, ValueError, "'{}': ids must be in [0, {}) ({}), got range [{}, {}]",
               name, limit, limit_name, low, high);
  }
  return out;
}

// The packing of this forward's real tokens when skip_padding applies (see the header).
std::optional<PackedSequences> packing_for(BertModelImpl& model, const BertInputs& inputs,
                                           const BertForwardOptions& options) {
  if (!model.skip_padding) return std::nullopt;
  QSIM_CHECK(model.config.attention_mask.mode == MaskMode::hf, ConfigError,
             "skip_padding needs the hf attention mask: under the zoo or a custom mask padded keys keep a weight");
  if (torch::GradMode::is_enabled() || options.hidden_states || options.attentions) return std::nullopt;
  for (const auto& m : model.modules()) {
    const auto* quantizer = dynamic_cast<const quant::QuantizerNodeImpl*>(m.get());
    if (quantizer != nullptr && quantizer->enabled()) return std::nullopt;
  }
  auto packed = PackedSequences::from_mask(inputs.attention_mask);
  if (!packed || packed->tokens() == packed->batch * packed->seq) return std::nullopt;
  if (!(inputs.attention_mask.select(1, 0) != 0).all().item<bool>()) return std::nullopt;
  return packed;
}

}  // namespace

BertInputs validate_inputs(const BertConfig& config, const torch::Tensor& input_ids,
                           const torch::Tensor& token_type_ids, const torch::Tensor& attention_mask) {
  QSIM_CHECK(input_ids.defined(), ValueError, "'input_ids': missing");
  QSIM_CHECK(input_ids.dim() == 2 && input_ids.size(0) > 0 && input_ids.size(1) > 0, ValueError,
             "'input_ids': expected a non-empty [batch, seq] tensor, got shape {}", shape_of(input_ids));
  QSIM_CHECK(input_ids.size(1) <= config.max_position_embeddings, ValueError,
             "'input_ids': sequence length {} exceeds max_position_embeddings {}", input_ids.size(1),
             config.max_position_embeddings);
  const auto shape = input_ids.sizes();
  BertInputs inputs;
  inputs.input_ids = check_ids(input_ids, "input_ids", config.vocab_size, "vocab_size", shape);
  inputs.token_type_ids =
      token_type_ids.defined()
          ? check_ids(token_type_ids, "token_type_ids", config.type_vocab_size, "type_vocab_size", shape)
          : torch::zeros(shape, inputs.input_ids.options());
  if (attention_mask.defined()) {
    QSIM_CHECK(attention_mask.sizes() == shape, ValueError, "'attention_mask': shape {}, expected [{}] like input_ids",
               shape_of(attention_mask), fmt::join(shape, ", "));
    QSIM_CHECK(!at::isComplexType(attention_mask.scalar_type()), ValueError,
               "'attention_mask': expected a real tensor, got {}", c10::toString(attention_mask.scalar_type()));
    inputs.attention_mask = attention_mask;
  } else {
    inputs.attention_mask = torch::ones(shape, inputs.input_ids.options());
  }
  return inputs;
}

BertModelImpl::BertModelImpl(const BertConfig& config_, bool add_pooling_layer_)
    : config(config_), add_pooling_layer(add_pooling_layer_) {
  reset();
}

void BertModelImpl::reset() {
  config.validate();
  embeddings = register_module("embeddings", BertEmbeddings(config));
  encoder = register_module("encoder", BertEncoder(config));
  pooler = add_pooling_layer ? register_module("pooler", BertPooler(config)) : BertPooler(nullptr);
  init_weights(*this, config.initializer_range);
}

BertModelOutput BertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                       const torch::Tensor& attention_mask, const BertForwardOptions& options) {
  const BertInputs inputs = validate_inputs(config, input_ids, token_type_ids, attention_mask);
  BertModelOutput out;
  const torch::Tensor embedded = embeddings(inputs.input_ids, inputs.token_type_ids);
  const torch::Tensor extended = config.attention_mask.extend(inputs.attention_mask, embedded.scalar_type());
  if (const auto packed = packing_for(*this, inputs, options)) {
    out.last_hidden_state = packed->unpack(encoder->forward_packed(packed->pack(embedded), *packed));
    if (pooler) out.pooler_output = pooler(out.last_hidden_state);
    return out;
  }
  if (options.hidden_states) out.hidden_states.push_back(embedded);
  out.last_hidden_state = encoder(embedded, extended, options.hidden_states ? &out.hidden_states : nullptr,
                                  options.attentions ? &out.attentions : nullptr);
  if (pooler) out.pooler_output = pooler(out.last_hidden_state);
  return out;
}

void BertModelImpl::set_attention_mask(const AttentionMask& mask) {
  config.attention_mask = mask;
  for (std::size_t i = 0; i < encoder->layer->size(); ++i) {
    encoder->at(i)->attention->self->config.attention_mask = mask;
  }
}

}  // namespace qsim::models::bert
