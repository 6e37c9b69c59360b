// A user's program: links qsim::qsim from an installed package and uses its API.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <qsim/qsim.hpp>

int main() {
  std::cout << "qsim " << qsim::version() << "\n";
#if QSIM_WITH_TORCH
  // 8-bit asymmetric encoding of [-1, 1], then fake-quantize a value through it.
  const auto encoding = qsim::quant::make_encoding(-1.0, 1.0, 8, qsim::quant::Symmetry::asymmetric);
  const auto y = qsim::quant::fake_quantize_static(at::full({4}, 0.5f), encoding);
  if (y.size(0) != 4 || std::abs(y[0].item<float>() - 0.5f) > 0.01f) return 1;
#endif
#if QSIM_DEPLOY_ENABLED
  // The deploy component: a small BERT's float graph through ONNX's library.
  qsim::models::bert::BertConfig config;
  config.vocab_size = 30;
  config.hidden_size = 16;
  config.num_hidden_layers = 1;
  config.num_attention_heads = 2;
  config.intermediate_size = 32;
  config.max_position_embeddings = 16;
  config.id2label = {"LABEL_0", "LABEL_1"};
  config.label2id = {{"LABEL_0", 0}, {"LABEL_1", 1}};
  const std::string path = (std::filesystem::temp_directory_path() / "qsim_consumer.onnx").string();
  qsim::deploy::export_float_onnx(qsim::models::bert::BertForTask(config), path);
  if (std::filesystem::file_size(path) == 0) return 1;
  std::remove(path.c_str());
#endif
  std::cout << "qsim consumer ok\n";
  return 0;
}
