#include "io/pickle_value.hpp"

namespace qsim::io::detail {

Value::~Value() {
  std::vector<ValuePtr> pending = std::move(items);
  for (auto& [key, value] : entries) {
    pending.push_back(std::move(key));
    pending.push_back(std::move(value));
  }
  while (!pending.empty()) {
    ValuePtr next = std::move(pending.back());
    pending.pop_back();
    if (next != nullptr && next.use_count() == 1) {
      // We hold the last reference: adopt its children so that destroying it recurses
      // no further.
      for (auto& item : next->items) pending.push_back(std::move(item));
      for (auto& [key, value] : next->entries) {
        pending.push_back(std::move(key));
        pending.push_back(std::move(value));
      }
      next->items.clear();
      next->entries.clear();
    }
  }
}

const char* kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::none: return "None";
    case ValueKind::boolean: return "bool";
    case ValueKind::integer: return "int";
    case ValueKind::big_integer: return "int";
    case ValueKind::floating: return "float";
    case ValueKind::string: return "str";
    case ValueKind::tuple: return "tuple";
    case ValueKind::list: return "list";
    case ValueKind::dict: return "dict";
    case ValueKind::global: return "global";
    case ValueKind::storage: return "storage";
    case ValueKind::tensor: return "tensor";
  }
  return "unknown";
}

}  // namespace qsim::io::detail
