#include "mmtrain/io/safetensors.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mmtrain/io/read_file.h"

namespace mmtrain {

namespace {

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};

constexpr DtypeName kDtypes[] = {
    {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
    {"F64", torch::kFloat64}, {"I64", torch::kInt64},   {"I32", torch::kInt32},
    {"I16", torch::kInt16},   {"I8", torch::kInt8},     {"U8", torch::kUInt8},
    {"BOOL", torch::kBool}};

torch::ScalarType dtype_from_name(const std::string& name, const std::string& where) {
  for (const auto& entry : kDtypes) {
    if (name == entry.name) return entry.type;
  }
  throw std::runtime_error(where + ": unsupported dtype '" + name + "'");
}

const char* name_from_dtype(torch::ScalarType type, const std::string& where) {
  for (const auto& entry : kDtypes) {
    if (type == entry.type) return entry.name;
  }
  throw std::runtime_error(where + ": cannot store dtype " + std::string(c10::toString(type)));
}

// The format's own bound on the JSON header (safetensors refuses larger ones too).
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

const nlohmann::json& member(const nlohmann::json& info, const char* key, const std::string& where) {
  const auto found = info.find(key);
  if (found == info.end()) throw std::runtime_error(where + ": no '" + key + "'");
  return *found;
}

// Element count of `shape`, refusing negative sizes and products beyond `max_elements` before any
// multiplication can overflow: a header claiming 2^60 elements is refused, never allocated.
int64_t checked_numel(const std::vector<int64_t>& shape, uint64_t max_elements, const std::string& where) {
  uint64_t numel = 1;
  for (const int64_t size : shape) {
    if (size < 0) throw std::runtime_error(where + ": negative size in its shape");
    if (size != 0 && numel > max_elements / static_cast<uint64_t>(size)) {
      throw std::runtime_error(where + ": its shape holds more elements than the file has bytes");
    }
    numel *= static_cast<uint64_t>(size);
  }
  return static_cast<int64_t>(numel);
}

torch::Tensor read_tensor(const nlohmann::json& info, const std::string& bytes, size_t data_start,
                          const std::string& where) {
  if (!info.is_object()) throw std::runtime_error(where + ": expected an object with dtype, shape and data_offsets");
  const auto& dtype = member(info, "dtype", where);
  if (!dtype.is_string()) throw std::runtime_error(where + ": dtype is not a string");
  const auto type = dtype_from_name(dtype.get<std::string>(), where);
  const auto& shape_json = member(info, "shape", where);
  const auto& offsets_json = member(info, "data_offsets", where);
  std::vector<int64_t> shape;
  std::vector<uint64_t> offsets;
  try {
    shape = shape_json.get<std::vector<int64_t>>();
    offsets = offsets_json.get<std::vector<uint64_t>>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where + ": shape and data_offsets must be lists of non-negative integers");
  }
  const uint64_t data_size = bytes.size() - data_start;
  if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size) {
    throw std::runtime_error(where + ": data_offsets are not [begin, end] within the file (truncated file?)");
  }
  const auto element_size = static_cast<uint64_t>(c10::elementSize(type));
  const int64_t numel = checked_numel(shape, data_size / element_size, where);
  const uint64_t size = static_cast<uint64_t>(numel) * element_size;
  if (offsets[1] - offsets[0] != size) {
    throw std::runtime_error(where + ": data_offsets do not match its shape and dtype (truncated file?)");
  }
  auto tensor = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (size > 0) std::memcpy(tensor.data_ptr(), bytes.data() + data_start + offsets[0], size);
  return tensor;
}

}  // namespace

TensorMap read_safetensors(const std::string& path) {
  const std::string bytes = read_file_bytes(path, "safetensors file");
  uint64_t header_size = 0;
  if (bytes.size() < 8) throw std::runtime_error(path + ": too short to be a safetensors file");
  std::memcpy(&header_size, bytes.data(), 8);  // little-endian hosts only, as LibTorch's CPU builds
  if (header_size > bytes.size() - 8) throw std::runtime_error(path + ": header length beyond the end of the file");
  if (header_size > kMaxHeaderBytes) throw std::runtime_error(path + ": header longer than the format's 100 MB");
  const auto header = nlohmann::json::parse(bytes.substr(8, header_size), nullptr, false);
  if (header.is_discarded() || !header.is_object()) throw std::runtime_error(path + ": header is not a JSON object");

  const size_t data_start = 8 + header_size;
  TensorMap tensors;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    tensors.emplace(name, read_tensor(info, bytes, data_start, path + ": tensor '" + name + "'"));
  }
  return tensors;
}

void write_safetensors(const std::string& path, const TensorMap& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<torch::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t size = t.numel() * t.element_size();
    header[name] = {{"dtype", name_from_dtype(t.scalar_type(), path)},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
    contiguous.push_back(std::move(t));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the tensor data 8-byte aligned
  const uint64_t header_size = text.size();

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(path + ": cannot open for writing");
  out.write(reinterpret_cast<const char*>(&header_size), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : contiguous) {
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  }
  if (!out) throw std::runtime_error(path + ": write failed");
}

}  // namespace mmtrain
