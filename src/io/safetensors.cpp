#include "qsim/io/safetensors.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "detail/check.hpp"
#include "io/file_writer.hpp"
#include "io/mapped_file.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian and is mapped without byte swapping");

namespace qsim::io {

namespace {

using nlohmann::json;

// Real headers are a few hundred bytes per tensor; a larger length is corruption (and
// would otherwise make us allocate and parse whatever the file claims).
constexpr std::uint64_t kMaxHeaderBytes = std::uint64_t{100} << 20;
constexpr char kMetadataKey[] = "__metadata__";

struct DtypeName {
  const char* name;
  at::ScalarType type;
};

constexpr DtypeName kDtypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
    {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte},    {"BOOL", at::kBool},
};

const DtypeName* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const char* dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (type == d.type) return d.name;
  }
  return nullptr;
}

// One validated header entry.
struct Entry {
  std::string name;
  at::ScalarType dtype;
  std::vector<int64_t> shape;
  std::uint64_t begin;
  std::uint64_t end;
};

std::uint64_t read_u64_le(const std::uint8_t* bytes) {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

// Parses the header, rejecting invalid UTF-8/JSON and duplicate top-level names
// (nlohmann would silently keep the last one).
json parse_header(const std::string& path, const std::uint8_t* bytes, std::uint64_t size) {
  std::string duplicate;
  std::set<std::string> seen;
  const auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && duplicate.empty() &&
        !seen.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json header;
  try {
    header = json::parse(bytes, bytes + size, on_event);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
    ::qsim::detail::raise<IoError>("{}: invalid JSON header: {}", path, e.what());
  }
  QSIM_CHECK(duplicate.empty(), IoError, "{}: '{}': duplicate tensor name in header", path,
             duplicate);
  QSIM_CHECK(header.is_object(), IoError, "{}: header must be a JSON object, got {}", path,
             header.type_name());
  return header;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& value) {
  QSIM_CHECK(value.is_object(), IoError, "{}: '{}' must be an object of strings, got {}",
             path, kMetadataKey, value.type_name());
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    QSIM_CHECK(item.is_string(), IoError, "{}: '{}': metadata '{}' must be a string, got {}",
               path, kMetadataKey, key, item.type_name());
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

// A JSON number that is a non-negative integer, as uint64.
bool as_count(const json& value, std::uint64_t& out) {
  if (value.is_number_unsigned()) {
    out = value.get<std::uint64_t>();
    return true;
  }
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    out = static_cast<std::uint64_t>(value.get<std::int64_t>());
    return true;
  }
  return false;
}

std::vector<int64_t> parse_shape(const std::string& path, const std::string& name,
                                 const json& shape) {
  QSIM_CHECK(shape.is_array(), IoError, "{}: '{}': shape must be an array, got {}", path,
             name, shape.type_name());
  std::vector<int64_t> dims;
  for (const auto& dim : shape) {
    std::uint64_t d = 0;
    QSIM_CHECK(as_count(dim, d) && d <= std::numeric_limits<int64_t>::max(), IoError,
               "{}: '{}': shape {} has a dimension that is not a non-negative integer", path,
               name, shape.dump());
    dims.push_back(static_cast<int64_t>(d));
  }
  return dims;
}

// Bytes the shape needs, or false on overflow.
bool byte_size(const std::vector<int64_t>& shape, std::uint64_t element_size,
               std::uint64_t& out) {
  std::uint64_t total = element_size;
  for (const int64_t d : shape) {
    if (__builtin_mul_overflow(total, static_cast<std::uint64_t>(d), &total)) return false;
  }
  out = total;
  return total <= static_cast<std::uint64_t>(std::numeric_limits<int64_t>::max());
}

Entry parse_entry(const std::string& path, const std::string& name, const json& value,
                  std::uint64_t data_size) {
  QSIM_CHECK(value.is_object(), IoError, "{}: '{}': entry must be an object, got {}", path,
             name, value.type_name());
  QSIM_CHECK(value.contains("dtype") && value.contains("shape") &&
                 value.contains("data_offsets"),
             IoError, "{}: '{}': entry needs dtype, shape and data_offsets, got {}", path,
             name, value.dump());
  const json& dtype = value["dtype"];
  QSIM_CHECK(dtype.is_string(), IoError, "{}: '{}': dtype must be a string, got {}", path,
             name, dtype.dump());
  const DtypeName* known = find_dtype(dtype.get<std::string>());
  QSIM_CHECK(known != nullptr, IoError,
             "{}: '{}': unsupported dtype '{}', expected one of F64, F32, F16, BF16, I64, I32, "
             "I16, I8, U8, BOOL",
             path, name, dtype.get<std::string>());
  Entry entry{name, known->type, parse_shape(path, name, value["shape"]), 0, 0};
  const json& offsets = value["data_offsets"];
  QSIM_CHECK(offsets.is_array() && offsets.size() == 2 && as_count(offsets[0], entry.begin) &&
                 as_count(offsets[1], entry.end),
             IoError, "{}: '{}': data_offsets must be two non-negative integers, got {}", path,
             name, offsets.dump());
  QSIM_CHECK(entry.begin <= entry.end && entry.end <= data_size, IoError,
             "{}: '{}': data_offsets [{}, {}] out of range of the {} data bytes", path, name,
             entry.begin, entry.end, data_size);
  std::uint64_t expected = 0;
  QSIM_CHECK(byte_size(entry.shape, at::elementSize(entry.dtype), expected), IoError,
             "{}: '{}': shape [{}] is too large", path, name, fmt::join(entry.shape, ", "));
  QSIM_CHECK(entry.end - entry.begin == expected, IoError,
             "{}: '{}': dtype {} shape [{}] needs {} bytes, data_offsets [{}, {}] hold {}", path,
             name, known->name, fmt::join(entry.shape, ", "), expected, entry.begin, entry.end,
             entry.end - entry.begin);
  return entry;
}

// Sorts by offset and rejects entries that share bytes.
void order_and_check_overlap(const std::string& path, std::vector<Entry>& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin == e.end) continue;
    QSIM_CHECK(previous == nullptr || e.begin >= previous->end, IoError,
               "{}: '{}': data_offsets [{}, {}] overlap those of '{}' [{}, {}]", path, e.name,
               e.begin, e.end, previous->name, previous->begin, previous->end);
    previous = &e;
  }
}

void check_bools(const std::string& path, const Entry& e, const std::uint8_t* bytes) {
  for (std::uint64_t i = 0; i < e.end - e.begin; ++i) {
    QSIM_CHECK(bytes[i] <= 1, IoError, "{}: '{}': BOOL element {} has byte value {}, not 0 or 1",
               path, e.name, i, bytes[i]);
  }
}

at::Tensor make_tensor(const std::shared_ptr<detail::MappedFile>& file, const Entry& e,
                       std::uint8_t* data) {
  const auto options = at::TensorOptions().dtype(e.dtype);
  if (e.begin == e.end) return at::empty(e.shape, options);
  std::uint8_t* bytes = data + e.begin;
  if (e.dtype == at::kBool) check_bools(file->path(), e, bytes);
  if (reinterpret_cast<std::uintptr_t>(bytes) % at::elementSize(e.dtype) == 0) {
    return at::from_blob(bytes, e.shape, [keep = file](void*) {}, options);
  }
  at::Tensor copy = at::empty(e.shape, options);
  std::memcpy(copy.data_ptr(), bytes, e.end - e.begin);
  return copy;
}

}  // namespace

const at::Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& [key, tensor] : tensors) {
    if (key == name) return tensor;
  }
  ::qsim::detail::raise<IoError>("{}: '{}': no such tensor among the {} in the file", path, name,
                         tensors.size());
}

bool SafetensorsFile::contains(const std::string& name) const {
  return std::any_of(tensors.begin(), tensors.end(),
                     [&](const auto& item) { return item.first == name; });
}

SafetensorsFile load_safetensors(const std::string& path) {
  const auto file = detail::MappedFile::open(path);
  QSIM_CHECK(file->size() >= 8, IoError,
             "{}: truncated: {} bytes, a safetensors file needs at least 8", path, file->size());
  const std::uint64_t header_size = read_u64_le(file->data());
  const std::uint64_t available = file->size() - 8;
  QSIM_CHECK(header_size <= kMaxHeaderBytes, IoError,
             "{}: header length {} exceeds the {}-byte limit", path, header_size,
             kMaxHeaderBytes);
  QSIM_CHECK(header_size <= available, IoError,
             "{}: truncated: header length {} but only {} bytes follow", path, header_size,
             available);
  const json header = parse_header(path, file->data() + 8, header_size);
  std::uint8_t* data = file->data() + 8 + header_size;
  const std::uint64_t data_size = available - header_size;

  SafetensorsFile result;
  result.path = path;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      result.metadata = parse_metadata(path, value);
    } else {
      entries.push_back(parse_entry(path, name, value, data_size));
    }
  }
  order_and_check_overlap(path, entries);
  for (const Entry& e : entries) result.tensors.emplace_back(e.name, make_tensor(file, e, data));
  return result;
}

at::Tensor load_safetensors_tensor(const std::string& path, const std::string& name) {
  SafetensorsFile file = load_safetensors(path);
  for (auto& [key, tensor] : file.tensors) {
    if (key == name) return tensor;
  }
  std::vector<std::string> names;
  for (const auto& item : file.tensors) names.push_back(item.first);
  ::qsim::detail::raise<IoError>("{}: '{}': no such tensor, the file holds [{}]", path, name,
                         fmt::join(names, ", "));
}

namespace {

// The tensors to write: validated, contiguous CPU, sorted as the data will be laid out.
TensorList prepare_for_save(const std::string& path, const TensorList& tensors) {
  TensorList prepared;
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    QSIM_CHECK(!name.empty() && name != kMetadataKey, ValueError,
               "{}: '{}': invalid tensor name", path, name);
    QSIM_CHECK(names.insert(name).second, ValueError, "{}: '{}': duplicate tensor name", path,
               name);
    QSIM_CHECK(tensor.defined(), ValueError, "{}: '{}': undefined tensor", path, name);
    QSIM_CHECK(dtype_name(tensor.scalar_type()) != nullptr, ValueError,
               "{}: '{}': dtype {} cannot be stored in safetensors", path, name,
               c10::toString(tensor.scalar_type()));
    prepared.emplace_back(name, tensor.detach().to(at::kCPU).contiguous());
  }
  std::stable_sort(prepared.begin(), prepared.end(), [](const auto& a, const auto& b) {
    const auto size_a = a.second.element_size();
    const auto size_b = b.second.element_size();
    return size_a != size_b ? size_a > size_b : a.first < b.first;
  });
  return prepared;
}

std::string make_header(const TensorList& tensors,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const auto bytes = static_cast<std::uint64_t>(tensor.nbytes());
    header[name] = {{"dtype", dtype_name(tensor.scalar_type())},
                    {"shape", tensor.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  return text;
}

}  // namespace

void save_safetensors(const std::string& path, const TensorList& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const TensorList prepared = prepare_for_save(path, tensors);
  const std::string header = make_header(prepared, metadata);
  detail::FileWriter out(path);
  std::uint8_t length[8];
  const std::uint64_t header_size = header.size();
  std::memcpy(length, &header_size, sizeof(length));
  out.write(length, sizeof(length));
  out.write(header.data(), header.size());
  for (const auto& item : prepared) out.write(item.second.data_ptr(), item.second.nbytes());
  out.commit();
}

}  // namespace qsim::io
