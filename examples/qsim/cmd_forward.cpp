// qsim forward: runs a Hugging Face BERT checkpoint (FP32: every quantizer disabled)
// on input_ids / token_type_ids / attention_mask from a safetensors file and writes
// last_hidden_state, pooler_output (when the model has a pooler) and the head's
// outputs: logits, or start_logits and end_logits.
#include <map>
#include <memory>
#include <string>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "qsim/io/safetensors.hpp"
#include "qsim/log.hpp"
#include "qsim/models/bert/bert_checkpoint.hpp"

namespace qsim::cli {
namespace {

struct ForwardArgs {
  std::string model_dir, inputs, output;
  std::string mask_value = "hf";
};

void run_forward(const ForwardArgs& args) {
  using namespace models::bert;
  const AttentionMask mask = AttentionMask::parse(args.mask_value);
  BertForTask model = load_pretrained(args.model_dir, mask);
  const io::SafetensorsFile inputs = io::load_safetensors(args.inputs);
  const auto optional = [&inputs](const char* name) {
    return inputs.contains(name) ? inputs.at(name) : at::Tensor();
  };
  c10::InferenceMode inference;
  const BertTaskOutput out =
      model->forward(inputs.at("input_ids"), optional("token_type_ids"), optional("attention_mask"));

  io::TensorList tensors = {{"last_hidden_state", out.bert.last_hidden_state}};
  if (out.bert.pooler_output.defined()) tensors.emplace_back("pooler_output", out.bert.pooler_output);
  if (out.logits.defined()) tensors.emplace_back("logits", out.logits);
  if (out.start_logits.defined()) {
    tensors.emplace_back("start_logits", out.start_logits);
    tensors.emplace_back("end_logits", out.end_logits);
  }
  io::save_safetensors(args.output, tensors,
                       {{"format", "pt"}, {"model_dir", args.model_dir}, {"mask_value", args.mask_value}});
  logger()->info("forward: wrote {} tensors for batch {} x {} to {}", tensors.size(),
                 out.bert.last_hidden_state.size(0), out.bert.last_hidden_state.size(1), args.output);
}

}  // namespace

void add_forward_command(CLI::App& app) {
  auto args = std::make_shared<ForwardArgs>();
  auto* cmd = app.add_subcommand("forward", "run a BERT checkpoint (FP32) on token ids from a safetensors file");
  cmd->add_option("--model_dir", args->model_dir, "Hugging Face model dir: config.json + model.safetensors or "
                                                  "pytorch_model.bin")
      ->required();
  cmd->add_option("--inputs", args->inputs,
                  "safetensors with input_ids [B, L] (int), optional token_type_ids and attention_mask")
      ->required();
  cmd->add_option("--output", args->output, "safetensors file to write the outputs to")->required();
  cmd->add_option("--mask_value", args->mask_value,
                  "padded-key mask: hf ((1-mask)*-10000), zoo (le(ext,-1)*-6, AIMET zoo) or a number")
      ->capture_default_str();
  cmd->callback([args] { run_forward(*args); });
}

}  // namespace qsim::cli
