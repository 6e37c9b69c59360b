#pragma once

// The golden tiny batch as the train::TaskDataset the ptq tools read.

#include "qsim/train/task_dataset.hpp"
#include "sim/tiny_bert.hpp"

namespace qsim::test {

inline train::TaskDataset dataset_of(const Batch& b) {
  train::TaskDataset data;
  data.input_ids = b.input_ids;
  data.token_type_ids = b.token_type_ids;
  data.attention_mask = b.attention_mask;
  return data;
}

}  // namespace qsim::test
