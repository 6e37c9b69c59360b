#include "io/pickle_reader.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "detail/check.hpp"

namespace qsim::io::detail {

namespace {

// A state dict has a few values per tensor; this bound stops a hostile pickle from
// exhausting memory with millions of tiny values.
constexpr std::size_t kMaxValues = std::size_t{1} << 22;
constexpr std::size_t kMaxGlobalName = 256;
// A state dict nests containers four deep (dict, REDUCE args, size tuple); this bound
// rejects nesting bombs early. Nothing here recurses, so it is a sanity limit only.
constexpr std::uint32_t kMaxDepth = 64;

// Opcode names as pickletools spells them, for error messages.
const char* opcode_name(std::uint8_t op) {
  switch (op) {
    case 0x80: return "PROTO";
    case 0x95: return "FRAME";
    case '(': return "MARK";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'N': return "NONE";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'M': return "BININT2";
    case 0x8a: return "LONG1";
    case 'G': return "BINFLOAT";
    case 'X': return "BINUNICODE";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case ')': return "EMPTY_TUPLE";
    case 't': return "TUPLE";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case ']': return "EMPTY_LIST";
    case 'l': return "LIST";
    case 'a': return "APPEND";
    case 'e': return "APPENDS";
    case '}': return "EMPTY_DICT";
    case 'd': return "DICT";
    case 's': return "SETITEM";
    case 'u': return "SETITEMS";
    case 'c': return "GLOBAL";
    case 0x93: return "STACK_GLOBAL";
    case 'R': return "REDUCE";
    case 'b': return "BUILD";
    case 'Q': return "BINPERSID";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 0x94: return "MEMOIZE";
    case 'h': return "BINGET";
    case 'j': return "LONG_BINGET";
    case '.': return "STOP";
    default: return "unknown opcode";
  }
}

bool is_container(ValueKind kind) {
  return kind == ValueKind::tuple || kind == ValueKind::list || kind == ValueKind::dict;
}

struct StorageType {
  const char* name;
  at::ScalarType dtype;
};

constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", at::kFloat}, {"HalfStorage", at::kHalf},   {"BFloat16Storage", at::kBFloat16},
    {"DoubleStorage", at::kDouble}, {"LongStorage", at::kLong}, {"IntStorage", at::kInt},
    {"ShortStorage", at::kShort}, {"CharStorage", at::kChar},   {"ByteStorage", at::kByte},
    {"BoolStorage", at::kBool},
};

constexpr char kOrderedDict[] = "collections.OrderedDict";
constexpr char kRebuildTensor[] = "torch._utils._rebuild_tensor_v2";
constexpr char kRebuildParameter[] = "torch._utils._rebuild_parameter";

}  // namespace

// The state of one load(): stack, mark stack and memo.
class PickleReader::Machine {
 public:
  Machine(PickleReader& owner, std::size_t offset) : r_(owner), pos_(offset) {}

  ValuePtr run() {
    for (;;) {
      const std::size_t at = pos_;
      if (pos_ == r_.size_) {
        op_name_ = "end of data";
        fail(at, "truncated: no STOP opcode");
      }
      const std::uint8_t op = byte();
      op_name_ = opcode_name(op);
      if (op == '.') return finish(at);
      step(op, at);
    }
  }

  std::size_t position() const { return pos_; }

 private:
  template <typename... Args>
  [[noreturn]] void fail(std::size_t at, fmt::format_string<Args...> format, Args&&... args) {
    ::qsim::detail::raise<IoError>("{}: pickle byte {} ({}): {}", r_.source_, at, op_name_,
                                   fmt::format(format, std::forward<Args>(args)...));
  }

  // --- reading bytes -------------------------------------------------------------------
  const std::uint8_t* take(std::size_t n) {
    if (n > r_.size_ - pos_) fail(pos_, "truncated: needs {} more bytes, {} left", n, r_.size_ - pos_);
    const std::uint8_t* p = r_.data_ + pos_;
    pos_ += n;
    return p;
  }
  std::uint8_t byte() { return *take(1); }
  template <typename T>
  T little_endian() {
    T value{};
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  std::string line() {
    const std::uint8_t* begin = r_.data_ + pos_;
    const std::size_t limit = std::min(r_.size_ - pos_, kMaxGlobalName + 1);
    const auto* end = static_cast<const std::uint8_t*>(std::memchr(begin, '\n', limit));
    if (end == nullptr) fail(pos_, "GLOBAL name is not newline-terminated within {} bytes", kMaxGlobalName);
    pos_ += static_cast<std::size_t>(end - begin) + 1;
    return std::string(begin, end);
  }

  // --- values --------------------------------------------------------------------------
  ValuePtr make(ValueKind kind) {
    if (++r_created_ > kMaxValues) fail(pos_, "more than {} values: not a state dict", kMaxValues);
    auto value = std::make_shared<Value>();
    value->kind = kind;
    if (is_container(kind)) r_.containers_.push_back(value);
    return value;
  }
  // A container holding `item` is at least one deeper than it.
  void deepen(Value& container, const Value& item, std::size_t at) {
    container.depth = std::max(container.depth, item.depth + 1);
    if (container.depth > kMaxDepth) fail(at, "containers nested more than {} deep: not a state dict", kMaxDepth);
  }
  ValuePtr make_integer(int64_t i) {
    auto v = make(ValueKind::integer);
    v->integer = i;
    return v;
  }
  ValuePtr make_string(std::size_t length) {
    auto v = make(ValueKind::string);
    const std::uint8_t* p = take(length);
    v->text.assign(reinterpret_cast<const char*>(p), length);
    return v;
  }
  // --- stack ---------------------------------------------------------------------------
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop(std::size_t at) {
    if (stack_.size() <= floor()) fail(at, "stack underflow");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  ValuePtr& top(std::size_t at) {
    if (stack_.size() <= floor()) fail(at, "stack underflow");
    return stack_.back();
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<ValuePtr> pop_mark(std::size_t at) {
    if (marks_.empty()) fail(at, "no MARK to pop to");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                                std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  ValuePtr make_tuple(std::vector<ValuePtr> items, std::size_t at) {
    auto t = make(ValueKind::tuple);
    for (const auto& item : items) deepen(*t, *item, at);
    t->items = std::move(items);
    return t;
  }

  // --- memo ----------------------------------------------------------------------------
  void put(std::uint32_t index, std::size_t at) { memo_[index] = top(at); }
  void get(std::uint32_t index, std::size_t at) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail(at, "memo key {} was never stored", index);
    push(it->second);
  }

  ValuePtr finish(std::size_t at) {
    if (stack_.size() != 1 || !marks_.empty()) {
      fail(at, "STOP with {} values and {} marks on the stack, expected 1 and 0", stack_.size(),
           marks_.size());
    }
    return stack_.back();
  }

  void step(std::uint8_t op, std::size_t at);
  void append_items(std::vector<ValuePtr> items, std::size_t at);
  void set_items(std::vector<ValuePtr> items, std::size_t at);
  void push_long1(std::size_t at);
  void push_float();
  ValuePtr resolve_global(const std::string& module, const std::string& name, std::size_t at);
  ValuePtr reduce(const Value& callable, const Value& args, std::size_t at);
  ValuePtr rebuild_tensor(const Value& args, std::size_t at);
  ValuePtr persistent_load(const Value& pid, std::size_t at);
  std::vector<int64_t> int_tuple(const Value& v, const char* what, std::size_t at);

  PickleReader& r_;
  std::size_t pos_;
  const char* op_name_ = "PROTO";  // the opcode being run, named in errors
  std::size_t r_created_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, ValuePtr> memo_;
};

void PickleReader::Machine::step(std::uint8_t op, std::size_t at) {
  switch (op) {
    case 0x80: {  // PROTO
      const int protocol = byte();
      if (protocol < 2 || protocol > 5) fail(at, "unsupported pickle protocol {}", protocol);
      return;
    }
    case 0x95: take(8); return;  // FRAME: a length hint only
    case '(': marks_.push_back(stack_.size()); return;  // MARK
    case '0': pop(at); return;                          // POP
    case '1': pop_mark(at); return;                     // POP_MARK
    case '2': push(top(at)); return;                    // DUP
    case 'N': push(make(ValueKind::none)); return;
    case 0x88:
    case 0x89: {  // NEWTRUE, NEWFALSE
      auto v = make(ValueKind::boolean);
      v->boolean = op == 0x88;
      push(v);
      return;
    }
    case 'J': push(make_integer(little_endian<std::int32_t>())); return;   // BININT
    case 'K': push(make_integer(byte())); return;                          // BININT1
    case 'M': push(make_integer(little_endian<std::uint16_t>())); return;  // BININT2
    case 0x8a: push_long1(at); return;                                     // LONG1
    case 'G': push_float(); return;                                        // BINFLOAT
    case 'X': push(make_string(little_endian<std::uint32_t>())); return;   // BINUNICODE
    case 0x8c: push(make_string(byte())); return;                          // SHORT_BINUNICODE
    case 0x8d: {                                                           // BINUNICODE8
      const auto length = little_endian<std::uint64_t>();
      if (length > r_.size_ - pos_) fail(at, "string of {} bytes runs past the end", length);
      push(make_string(static_cast<std::size_t>(length)));
      return;
    }
    case ')': push(make(ValueKind::tuple)); return;  // EMPTY_TUPLE
    case 't': push(make_tuple(pop_mark(at), at)); return;
    case 0x85:
    case 0x86:
    case 0x87: {  // TUPLE1..3
      const std::size_t n = op - 0x84u;
      std::vector<ValuePtr> items(n);
      for (std::size_t i = n; i-- > 0;) items[i] = pop(at);
      push(make_tuple(std::move(items), at));
      return;
    }
    case ']': push(make(ValueKind::list)); return;  // EMPTY_LIST
    case 'l': {                                     // LIST
      auto items = pop_mark(at);
      push(make(ValueKind::list));
      append_items(std::move(items), at);
      return;
    }
    case 'a': {  // APPEND
      auto item = pop(at);
      append_items({std::move(item)}, at);
      return;
    }
    case 'e': append_items(pop_mark(at), at); return;  // APPENDS
    case '}': push(make(ValueKind::dict)); return;     // EMPTY_DICT
    case 'd': {                                        // DICT
      auto items = pop_mark(at);
      push(make(ValueKind::dict));
      set_items(std::move(items), at);
      return;
    }
    case 's': {  // SETITEM
      auto value = pop(at);
      auto key = pop(at);
      set_items({std::move(key), std::move(value)}, at);
      return;
    }
    case 'u': set_items(pop_mark(at), at); return;  // SETITEMS
    case 'c': {                                     // GLOBAL
      const std::string module = line();
      const std::string name = line();
      push(resolve_global(module, name, at));
      return;
    }
    case 0x93: {  // STACK_GLOBAL
      const auto name = pop(at);
      const auto module = pop(at);
      if (module->kind != ValueKind::string || name->kind != ValueKind::string) {
        fail(at, "STACK_GLOBAL needs two strings");
      }
      push(resolve_global(module->text, name->text, at));
      return;
    }
    case 'R': {  // REDUCE
      const auto args = pop(at);
      const auto callable = pop(at);
      push(reduce(*callable, *args, at));
      return;
    }
    case 'b': {  // BUILD
      const auto state = pop(at);
      // OrderedDict state is its `_metadata` attribute (module versions): not needed.
      if (top(at)->kind != ValueKind::dict) fail(at, "BUILD on a {}", kind_name(top(at)->kind));
      return;
    }
    case 'Q': {  // BINPERSID
      const auto pid = pop(at);
      push(persistent_load(*pid, at));
      return;
    }
    case 'q': put(byte(), at); return;                                     // BINPUT
    case 'r': put(little_endian<std::uint32_t>(), at); return;             // LONG_BINPUT
    case 0x94: put(static_cast<std::uint32_t>(memo_.size()), at); return;  // MEMOIZE
    case 'h': get(byte(), at); return;                                     // BINGET
    case 'j': get(little_endian<std::uint32_t>(), at); return;             // LONG_BINGET
    default:
      fail(at, "unsupported pickle opcode 0x{:02x}", op);
  }
}

void PickleReader::Machine::append_items(std::vector<ValuePtr> items, std::size_t at) {
  Value& list = *top(at);
  if (list.kind != ValueKind::list) fail(at, "APPEND to a {}", kind_name(list.kind));
  for (auto& item : items) {
    deepen(list, *item, at);
    list.items.push_back(std::move(item));
  }
}

void PickleReader::Machine::set_items(std::vector<ValuePtr> items, std::size_t at) {
  Value& dict = *top(at);
  if (dict.kind != ValueKind::dict) fail(at, "SETITEM on a {}", kind_name(dict.kind));
  if (items.size() % 2 != 0) fail(at, "SETITEMS with an odd number ({}) of values", items.size());
  for (std::size_t i = 0; i < items.size(); i += 2) {
    deepen(dict, *items[i], at);
    deepen(dict, *items[i + 1], at);
    const auto same_key = [&](const auto& entry) {
      return entry.first->kind == ValueKind::string && items[i]->kind == ValueKind::string &&
             entry.first->text == items[i]->text;
    };
    const auto existing = std::find_if(dict.entries.begin(), dict.entries.end(), same_key);
    if (existing != dict.entries.end()) {
      existing->second = std::move(items[i + 1]);
    } else {
      dict.entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
    }
  }
}

void PickleReader::Machine::push_long1(std::size_t at) {
  const std::size_t n = byte();
  const std::uint8_t* bytes = take(n);
  if (n > 8) {
    auto v = make(ValueKind::big_integer);
    v->text.assign(reinterpret_cast<const char*>(bytes), n);
    push(v);
    return;
  }
  std::uint64_t raw = 0;
  for (std::size_t i = 0; i < n; ++i) raw |= std::uint64_t{bytes[i]} << (8 * i);
  if (n > 0 && n < 8 && (bytes[n - 1] & 0x80) != 0) raw |= ~std::uint64_t{0} << (8 * n);  // sign
  push(make_integer(static_cast<int64_t>(raw)));
  (void)at;
}

void PickleReader::Machine::push_float() {
  const std::uint8_t* p = take(8);
  std::uint64_t raw = 0;
  for (int i = 0; i < 8; ++i) raw = (raw << 8) | p[i];  // big-endian
  auto v = make(ValueKind::floating);
  std::memcpy(&v->floating, &raw, sizeof(raw));
  push(v);
}

ValuePtr PickleReader::Machine::resolve_global(const std::string& module, const std::string& name,
                                               std::size_t at) {
  const std::string full = module + "." + name;
  auto v = make(ValueKind::global);
  v->text = full;
  if (full == kOrderedDict || full == kRebuildTensor || full == kRebuildParameter) return v;
  if (module == "torch") {
    for (const auto& type : kStorageTypes) {
      if (name == type.name) {
        v->storage_dtype = type.dtype;
        return v;
      }
    }
  }
  fail(at,
       "forbidden global '{}': a state dict may only reference collections.OrderedDict, "
       "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.<T>Storage",
       full);
}

ValuePtr PickleReader::Machine::reduce(const Value& callable, const Value& args, std::size_t at) {
  if (callable.kind != ValueKind::global) fail(at, "REDUCE calls a {}", kind_name(callable.kind));
  if (args.kind != ValueKind::tuple) fail(at, "REDUCE arguments are a {}", kind_name(args.kind));
  if (callable.text == kOrderedDict) {
    if (!args.items.empty()) fail(at, "{} called with {} arguments, expected 0", kOrderedDict, args.items.size());
    return make(ValueKind::dict);
  }
  if (callable.text == kRebuildTensor) return rebuild_tensor(args, at);
  if (callable.text == kRebuildParameter) {
    if (args.items.size() != 3 || args.items[0]->kind != ValueKind::tensor) {
      fail(at, "{} expects (tensor, requires_grad, hooks)", kRebuildParameter);
    }
    return args.items[0];
  }
  fail(at, "'{}' cannot be called", callable.text);
}

std::vector<int64_t> PickleReader::Machine::int_tuple(const Value& v, const char* what, std::size_t at) {
  if (v.kind != ValueKind::tuple) fail(at, "tensor {} is a {}, expected a tuple", what, kind_name(v.kind));
  std::vector<int64_t> out;
  for (const auto& item : v.items) {
    if (item->kind != ValueKind::integer || item->integer < 0) {
      fail(at, "tensor {} holds a {} that is not a non-negative int", what, kind_name(item->kind));
    }
    out.push_back(item->integer);
  }
  return out;
}

ValuePtr PickleReader::Machine::rebuild_tensor(const Value& args, std::size_t at) {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  const auto& a = args.items;
  if (a.size() != 6 && a.size() != 7) fail(at, "{} called with {} arguments, expected 6 or 7", kRebuildTensor, a.size());
  if (a[0]->kind != ValueKind::storage) fail(at, "tensor storage is a {}", kind_name(a[0]->kind));
  if (a[1]->kind != ValueKind::integer || a[1]->integer < 0) fail(at, "tensor storage offset is not a non-negative int");
  auto record = std::make_shared<TensorRecord>();
  record->storage = a[0]->storage;
  record->offset = a[1]->integer;
  record->sizes = int_tuple(*a[2], "size", at);
  record->strides = int_tuple(*a[3], "stride", at);
  if (record->sizes.size() != record->strides.size()) {
    fail(at, "tensor size has {} dims but stride has {}", record->sizes.size(), record->strides.size());
  }
  auto v = make(ValueKind::tensor);
  v->tensor = std::move(record);
  return v;
}

ValuePtr PickleReader::Machine::persistent_load(const Value& pid, std::size_t at) {
  // ('storage', torch.<T>Storage, key, location, numel[, view_metadata])
  const auto& p = pid.items;
  if (pid.kind != ValueKind::tuple || (p.size() != 5 && p.size() != 6) || p[0]->kind != ValueKind::string ||
      p[0]->text != "storage") {
    fail(at, "persistent id is not a ('storage', type, key, location, numel) tuple");
  }
  if (p[1]->kind != ValueKind::global || p[1]->text.size() < 7 ||
      p[1]->text.compare(p[1]->text.size() - 7, 7, "Storage") != 0) {
    fail(at, "persistent id names no storage type");
  }
  if (p[2]->kind != ValueKind::string) fail(at, "storage key is a {}", kind_name(p[2]->kind));
  if (p[4]->kind != ValueKind::integer || p[4]->integer < 0) fail(at, "storage '{}': size is not a non-negative int", p[2]->text);
  if (p.size() == 6 && p[5]->kind != ValueKind::none) fail(at, "storage '{}': storage views are not supported", p[2]->text);
  const std::string& key = p[2]->text;
  auto& record = r_.storages_[key];
  if (record == nullptr) {
    record = std::make_shared<StorageRecord>(StorageRecord{key, p[1]->storage_dtype, p[4]->integer, {}});
  } else if (record->dtype != p[1]->storage_dtype || record->numel != p[4]->integer) {
    fail(at, "storage '{}' is referenced with two different types or sizes", key);
  }
  auto v = make(ValueKind::storage);
  v->storage = record;
  return v;
}

PickleReader::PickleReader(std::string source, const std::uint8_t* data, std::size_t size)
    : source_(std::move(source)), data_(data), size_(size) {}

PickleReader::~PickleReader() {
  // A hostile pickle can put a list into itself (through the memo): a reference
  // cycle that shared_ptr never frees. Emptying every container still alive
  // breaks all cycles; values the caller still holds lose their contents.
  for (const auto& weak : containers_) {
    if (const ValuePtr container = weak.lock()) {
      std::vector<ValuePtr> items = std::move(container->items);
      auto entries = std::move(container->entries);
      container->items.clear();
      container->entries.clear();
    }
  }
}

ValuePtr PickleReader::load(std::size_t offset) {
  QSIM_CHECK(offset <= size_, IoError, "{}: pickle starts at byte {} past the end ({})", source_,
             offset, size_);
  Machine machine(*this, offset);
  ValuePtr value = machine.run();
  position_ = machine.position();
  return value;
}

}  // namespace qsim::io::detail
