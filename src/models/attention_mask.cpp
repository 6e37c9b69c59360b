#include "qsim/models/bert/attention_mask.hpp"

#include <cmath>
#include <string>

#include "detail/check.hpp"

namespace qsim::models::bert {

AttentionMask AttentionMask::parse(std::string_view text) {
  if (text == "hf") return hf();
  if (text == "zoo") return zoo();
  const std::string s(text);
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  QSIM_CHECK(used == s.size() && !s.empty() && std::isfinite(value), ConfigError,
             "mask value '{}': expected hf, zoo or a finite number", text);
  return custom(value);
}

at::Tensor AttentionMask::extend(const at::Tensor& attention_mask, at::ScalarType dtype) const {
  const double value = mode == MaskMode::custom ? custom_value : -10000.0;
  const at::Tensor mask = attention_mask.unsqueeze(1).unsqueeze(2).to(dtype);
  return (1.0 - mask) * value;
}

at::Tensor AttentionMask::key_mask(const at::Tensor& extended) const {
  if (mode != MaskMode::zoo) return extended;
  // The zoo's `torch.le(attention_mask, -1) * -6`: bool · int → int64 values 0 / −6.
  return at::le(extended, -1).to(at::kLong) * -6;
}

}  // namespace qsim::models::bert
