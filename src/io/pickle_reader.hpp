#pragma once

// A restricted unpickler for torch state dicts. It implements the opcodes that
// torch.save emits (protocol 2, plus the protocol-4 framing ones) and resolves only
// the globals a state dict needs: collections.OrderedDict,
// torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and the
// torch.<T>Storage types. Any other global (os.system, builtins.eval, ...) is an
// IoError, and nothing is ever executed: REDUCE on an allowed global builds a plain
// record (a dict, a TensorRecord), never a call into code.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/pickle_value.hpp"

namespace qsim::io::detail {

class PickleReader {
 public:
  /// Reads pickles from `data[0, size)`; `source` names the file (and archive member)
  /// in every error.
  PickleReader(std::string source, const std::uint8_t* data, std::size_t size);
  /// Frees every value it built, reference cycles included: values still held lose
  /// their contents, so convert what load() returned before the reader goes.
  ~PickleReader();
  PickleReader(const PickleReader&) = delete;
  PickleReader& operator=(const PickleReader&) = delete;

  /// Unpickles one value starting at byte `offset`, up to and including its STOP.
  ValuePtr load(std::size_t offset);
  /// The byte after the last STOP read.
  std::size_t position() const { return position_; }
  /// The storages that persistent ids named so far, by key.
  const std::map<std::string, std::shared_ptr<StorageRecord>>& storages() const {
    return storages_;
  }

 private:
  class Machine;

  std::string source_;
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t position_ = 0;
  std::map<std::string, std::shared_ptr<StorageRecord>> storages_;
  std::vector<std::weak_ptr<Value>> containers_;  ///< every tuple, list and dict built
};

}  // namespace qsim::io::detail
