#include "mmtrain/io/torch_state_dict.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>

#include "mmtrain/io/zip_bounds.h"

namespace mmtrain {

namespace {

// ---------------------------------------------------------------------------------------------
// Values on the pickle stack. Containers sit behind shared pointers because the memo and the
// stack must see the same list or dict as later APPEND/SETITEM opcodes fill it.

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct None {};
struct Global {
  std::string module, name;
  std::string qualified() const { return module + "." + name; }
};
struct Tuple {
  std::vector<ValuePtr> items;
};
struct List {
  std::vector<ValuePtr> items;
};
// Pairs in insertion order; a repeated key is resolved as Python does (last one wins) when the
// dict is read, not while it is built.
struct Dict {
  std::vector<std::pair<ValuePtr, ValuePtr>> items;
};
// Checkpoints carry Python objects a state dict never needs (argparse.Namespace, numpy scalars,
// sets, ...); keeping only a description of them lets such files load, and lets errors name them.
struct Opaque {
  std::string description;
};
struct Storage {
  torch::Tensor flat;
};

using Data = std::variant<None, bool, int64_t, double, std::string, Global, Tuple, List, Dict, Storage,
                          torch::Tensor, Opaque>;
constexpr const char* kKindNames[] = {"None",    "a bool", "an int",    "a float",   "a str",    "a global",
                                      "a tuple", "a list", "a dict",    "a storage", "a tensor", "an object"};

struct Value {
  Data data;
};

template <typename T>
ValuePtr make(T value) {
  return std::make_shared<Value>(Value{Data(std::in_place_type<T>, std::move(value))});
}

std::string describe(const Value& value) {
  if (const auto* opaque = std::get_if<Opaque>(&value.data)) return opaque->description;
  if (const auto* global = std::get_if<Global>(&value.data)) return "the global " + global->qualified();
  return kKindNames[value.data.index()];
}

template <typename T>
T& expect(const ValuePtr& value, const std::string& what) {
  if (auto* held = std::get_if<T>(&value->data)) return *held;
  const char* wanted = kKindNames[Data(std::in_place_type<T>).index()];
  throw std::runtime_error(what + ": expected " + wanted + ", got " + describe(*value));
}

std::vector<int64_t> int_tuple(const ValuePtr& value, const std::string& what) {
  std::vector<int64_t> ints;
  for (const auto& item : expect<Tuple>(value, what).items) ints.push_back(expect<int64_t>(item, what));
  return ints;
}

// ---------------------------------------------------------------------------------------------
// Calls that torch.save's pickles make through REDUCE/NEWOBJ.

// A view must stay inside its storage: the sizes and strides come from the file, and as_strided
// would otherwise read past the buffer.
void check_view_fits(int64_t storage_numel, int64_t offset, const std::vector<int64_t>& sizes,
                     const std::vector<int64_t>& strides) {
  if (sizes.size() != strides.size()) throw std::runtime_error("tensor size and stride differ in rank");
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 0 || strides[i] < 0) throw std::runtime_error("tensor has a negative size or stride");
    if (sizes[i] == 0) return;  // an empty view touches no element
  }
  if (offset < 0 || offset >= storage_numel) throw std::runtime_error("tensor starts outside its storage");
  int64_t last = offset;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t steps = sizes[i] - 1;
    // Division instead of multiplication, so values from a corrupt file cannot overflow.
    if (strides[i] != 0 && steps > (storage_numel - 1 - last) / strides[i]) {
      throw std::runtime_error("tensor reaches beyond the end of its storage");
    }
    last += steps * strides[i];
  }
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
torch::Tensor rebuild_tensor(const Tuple& args) {
  const std::string what = "torch._utils._rebuild_tensor_v2";
  if (args.items.size() < 4) throw std::runtime_error(what + ": too few arguments");
  const torch::Tensor& storage = expect<Storage>(args.items[0], what + " storage").flat;
  const int64_t offset = expect<int64_t>(args.items[1], what + " storage_offset");
  const auto sizes = int_tuple(args.items[2], what + " size");
  const auto strides = int_tuple(args.items[3], what + " stride");
  check_view_fits(storage.numel(), offset, sizes, strides);
  // A contiguous copy, so tensors that shared a storage (views, transposes) own their memory.
  return storage.as_strided(sizes, strides, offset).clone(at::MemoryFormat::Contiguous);
}

ValuePtr call_global(const ValuePtr& callable, const Tuple& args) {
  const std::string name = expect<Global>(callable, "REDUCE/NEWOBJ callable").qualified();
  if (name == "collections.OrderedDict") {
    // Python pickles OrderedDict as an empty call followed by SETITEMS; entries passed as
    // arguments would be lost here, so refuse rather than drop them.
    if (!args.items.empty()) throw std::runtime_error("collections.OrderedDict called with arguments");
    return make(Dict{});
  }
  if (name == "torch._utils._rebuild_tensor_v2") return make(rebuild_tensor(args));
  if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
    if (args.items.empty()) throw std::runtime_error(name + ": no arguments");
    return make(expect<torch::Tensor>(args.items[0], name + " data"));
  }
  return make(Opaque{"the result of " + name + "(...)"});
}

// ---------------------------------------------------------------------------------------------
// The pickle virtual machine, for the opcodes torch.save writes (protocol 2 by default; the
// few protocol 3/4 additions are cheap, so files saved with pickle_protocol=4 load too).

namespace op {
enum : uint8_t {
  kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2', kBinFloat = 'G', kBinInt = 'J',
  kBinInt1 = 'K', kBinInt2 = 'M', kNone = 'N', kBinPersId = 'Q', kReduce = 'R', kBinString = 'T',
  kShortBinString = 'U', kBinUnicode = 'X', kAppend = 'a', kBuild = 'b', kGlobal = 'c', kAppends = 'e',
  kBinGet = 'h', kLongBinGet = 'j', kEmptyList = ']', kBinPut = 'q', kLongBinPut = 'r', kSetItem = 's',
  kTuple = 't', kSetItems = 'u', kEmptyDict = '}', kEmptyTuple = ')', kProto = 0x80, kNewObj = 0x81,
  kTuple1 = 0x85, kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89, kLong1 = 0x8a,
  kLong4 = 0x8b,
  // protocol 3
  kBinBytes = 'B', kShortBinBytes = 'C',
  // protocol 4
  kShortBinUnicode = 0x8c, kBinUnicode8 = 0x8d, kBinBytes8 = 0x8e, kEmptySet = 0x8f, kAddItems = 0x90,
  kFrozenSet = 0x91, kNewObjEx = 0x92, kStackGlobal = 0x93, kMemoize = 0x94, kFrame = 0x95,
};
}  // namespace op

std::string opcode_name(uint8_t opcode) {
  char text[16];
  if (opcode >= 0x20 && opcode < 0x7f) {
    std::snprintf(text, sizeof(text), "0x%02x ('%c')", opcode, opcode);
  } else {
    std::snprintf(text, sizeof(text), "0x%02x", opcode);
  }
  return text;
}

bool is_allowed_global(const std::string& name);  // defined below, beside the storage types

class Unpickler {
 public:
  using LoadPersistent = std::function<ValuePtr(const Tuple& pid)>;

  Unpickler(const uint8_t* data, size_t size, LoadPersistent load_persistent)
      : data_(data), size_(size), load_persistent_(std::move(load_persistent)) {}
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // A crafted pickle can nest lists a million deep, or make cycles through the memo; freeing such
  // a tree through shared_ptr destructors would recurse until the stack overflows (or leak the
  // cycles). Every container is also held by the arena, so emptying them one by one frees each
  // child without recursion. The values load() returned are only valid until then.
  ~Unpickler() {
    for (const ValuePtr& container : containers_) {
      Data emptied = None{};
      std::swap(emptied, container->data);
    }
  }

  ValuePtr load() {
    for (;;) {
      if (pos_ == size_) throw std::runtime_error("data.pkl ends before its STOP opcode");
      const size_t offset = pos_;
      const uint8_t opcode = data_[pos_++];
      try {
        if (!execute(opcode)) return pop();
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("data.pkl: opcode " + opcode_name(opcode) + " at offset " +
                                 std::to_string(offset) + ": " + e.what());
      }
    }
  }

 private:
  // Returns false at STOP.
  bool execute(uint8_t opcode) {
    switch (opcode) {
      case op::kProto: take(1); break;
      case op::kFrame: take(8); break;  // only a read-ahead hint
      case op::kStop: return false;
      case op::kMark: marks_.push_back(stack_.size()); break;
      case op::kPop: pop(); break;
      case op::kPopMark: pop_mark(); break;
      case op::kDup: push(peek()); break;
      case op::kNone: push(make(None{})); break;
      case op::kNewTrue: push(make(true)); break;
      case op::kNewFalse: push(make(false)); break;
      case op::kBinInt: push_int(read_le<int32_t>()); break;
      case op::kBinInt1: push_int(read_le<uint8_t>()); break;
      case op::kBinInt2: push_int(read_le<uint16_t>()); break;
      case op::kLong1: push(read_long(read_le<uint8_t>())); break;
      case op::kLong4: push(read_long(read_le<uint32_t>())); break;
      case op::kBinFloat: push(make(read_be_double())); break;
      case op::kShortBinString:
      case op::kShortBinBytes:
      case op::kShortBinUnicode: push_string(read_le<uint8_t>()); break;
      case op::kBinString:
      case op::kBinBytes:
      case op::kBinUnicode: push_string(read_le<uint32_t>()); break;
      case op::kBinBytes8:
      case op::kBinUnicode8: push_string(read_le<uint64_t>()); break;
      case op::kEmptyTuple: push(make(Tuple{})); break;
      case op::kTuple1: push_tuple(1); break;
      case op::kTuple2: push_tuple(2); break;
      case op::kTuple3: push_tuple(3); break;
      case op::kTuple: push(make(Tuple{pop_mark()})); break;
      case op::kEmptyList: push(make(List{})); break;
      case op::kEmptyDict: push(make(Dict{})); break;
      case op::kEmptySet: push(make(Opaque{"a set"})); break;
      case op::kFrozenSet: frozen_set(); break;
      case op::kAppend: append_items({pop()}); break;
      case op::kAppends:
      case op::kAddItems: append_items(pop_mark()); break;
      case op::kSetItem: set_items(pop_n(2)); break;
      case op::kSetItems: set_items(pop_mark()); break;
      case op::kGlobal: read_global(); break;
      case op::kStackGlobal: stack_global(); break;
      case op::kReduce:
      case op::kNewObj: reduce(); break;
      case op::kNewObjEx: new_obj_ex(); break;
      case op::kBuild: build(); break;
      case op::kBinPersId: push(load_persistent_(expect<Tuple>(pop(), "persistent id"))); break;
      case op::kBinPut: memo_put(read_le<uint8_t>()); break;
      case op::kLongBinPut: memo_put(read_le<uint32_t>()); break;
      case op::kMemoize: memo_put(memo_.size()); break;
      case op::kBinGet: push(memo_get(read_le<uint8_t>())); break;
      case op::kLongBinGet: push(memo_get(read_le<uint32_t>())); break;
      default: throw std::runtime_error("not an opcode this reader knows (it reads what torch.save writes)");
    }
    return true;
  }

  // --- reading the byte stream

  const uint8_t* take(uint64_t n) {
    if (n > size_ - pos_) throw std::runtime_error("its argument runs past the end of data.pkl");
    const uint8_t* at = data_ + pos_;
    pos_ += n;
    return at;
  }

  template <typename T>
  T read_le() {  // pickle's fixed-width ints are little-endian, as are LibTorch's CPU hosts
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }

  double read_be_double() {  // BINFLOAT alone is big-endian
    const uint8_t* bytes = take(8);
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | bytes[i];
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
  }

  std::string read_line() {
    const void* end = std::memchr(data_ + pos_, '\n', size_ - pos_);
    if (end == nullptr) throw std::runtime_error("its name runs past the end of data.pkl");
    const size_t length = static_cast<const uint8_t*>(end) - (data_ + pos_);
    std::string line(reinterpret_cast<const char*>(take(length)), length);
    take(1);
    return line;
  }

  // LONG1/LONG4: little-endian two's complement of any width.
  ValuePtr read_long(uint64_t n) {
    const uint8_t* bytes = take(n);
    if (n > 8) return make(Opaque{"an int wider than 64 bits"});
    uint64_t bits = 0;
    for (uint64_t i = 0; i < n; ++i) bits |= static_cast<uint64_t>(bytes[i]) << (8 * i);
    if (n > 0 && n < 8 && (bytes[n - 1] & 0x80)) bits |= ~uint64_t{0} << (8 * n);
    return make(static_cast<int64_t>(bits));
  }

  // --- the stack; a MARK hides what lies below it until the matching pop_mark

  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }

  void push(ValuePtr value) {
    // A container made just now (not one from the memo or DUP) joins the arena, see ~Unpickler.
    const bool container = std::holds_alternative<Tuple>(value->data) || std::holds_alternative<List>(value->data) ||
                           std::holds_alternative<Dict>(value->data);
    if (container && value.use_count() == 1) containers_.push_back(value);
    stack_.push_back(std::move(value));
  }
  void push_int(int64_t value) { push(make(value)); }
  void push_string(uint64_t length) {
    const uint8_t* bytes = take(length);
    push(make(std::string(reinterpret_cast<const char*>(bytes), length)));
  }
  void push_tuple(size_t n) { push(make(Tuple{pop_n(n)})); }

  ValuePtr& peek() {
    if (stack_.size() <= floor()) throw std::runtime_error("pickle stack underflow");
    return stack_.back();
  }

  ValuePtr pop() {
    ValuePtr top = std::move(peek());
    stack_.pop_back();
    return top;
  }

  std::vector<ValuePtr> pop_n(size_t n) {
    if (stack_.size() < floor() + n) throw std::runtime_error("pickle stack underflow");
    std::vector<ValuePtr> items(stack_.end() - n, stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }

  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) throw std::runtime_error("no MARK on the pickle stack");
    std::vector<ValuePtr> items(stack_.begin() + marks_.back(), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }

  // --- containers and objects

  void append_items(std::vector<ValuePtr> items) {
    ValuePtr& target = peek();
    if (std::holds_alternative<Opaque>(target->data)) return;  // e.g. a set or a list subclass
    auto& list = expect<List>(target, "APPEND target").items;
    list.insert(list.end(), items.begin(), items.end());
  }

  void set_items(std::vector<ValuePtr> keys_and_values) {
    if (keys_and_values.size() % 2 != 0) throw std::runtime_error("SETITEMS with a key but no value");
    ValuePtr& target = peek();
    if (std::holds_alternative<Opaque>(target->data)) return;  // e.g. a defaultdict
    auto& dict = expect<Dict>(target, "SETITEM target").items;
    for (size_t i = 0; i < keys_and_values.size(); i += 2) {
      dict.emplace_back(keys_and_values[i], keys_and_values[i + 1]);
    }
  }

  // Only the globals torch.save checkpoints hold get onto the stack (torch.load(weights_only=True)
  // draws the same line): os.system, builtins.eval and the like are refused by name here, before
  // any REDUCE could reach them. The reader never calls a global anyway (see call_global).
  void push_global(std::string module, std::string name) {
    Global global{std::move(module), std::move(name)};
    if (!is_allowed_global(global.qualified())) {
      throw std::runtime_error("the global " + global.qualified() +
                               " is not one that torch.save checkpoints use; refusing the file");
    }
    push(make(std::move(global)));
  }

  void read_global() {
    std::string module = read_line();  // a statement of its own: argument order is unspecified
    push_global(std::move(module), read_line());
  }

  void stack_global() {
    std::string name = expect<std::string>(pop(), "STACK_GLOBAL name");
    push_global(expect<std::string>(pop(), "STACK_GLOBAL module"), std::move(name));
  }

  void reduce() {
    const ValuePtr args = pop();
    const ValuePtr callable = pop();
    push(call_global(callable, expect<Tuple>(args, "REDUCE arguments")));
  }

  // Keyword arguments only ever go to classes this reader keeps opaque, so they are dropped.
  void new_obj_ex() {
    pop();
    reduce();
  }

  void frozen_set() {
    pop_mark();
    push(make(Opaque{"a frozenset"}));
  }

  // BUILD's state is an object's __dict__ or __setstate__ argument; the only one a state dict
  // has is OrderedDict's `_metadata` (module versions), which loading tensors does not need.
  void build() {
    pop();
    peek();
  }

  void memo_put(uint64_t index) { memo_[index] = peek(); }

  ValuePtr memo_get(uint64_t index) const {
    const auto found = memo_.find(index);
    if (found == memo_.end()) throw std::runtime_error("memo entry " + std::to_string(index) + " is not set");
    return found->second;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
  std::vector<ValuePtr> containers_;  // every tuple, list and dict made, for ~Unpickler
  LoadPersistent load_persistent_;
};

// ---------------------------------------------------------------------------------------------
// The zip archive around the pickle.

using caffe2::serialize::PyTorchStreamReader;

struct StorageType {
  const char* name;
  torch::ScalarType type;
};

constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", torch::kFloat32},        {"DoubleStorage", torch::kFloat64},
    {"HalfStorage", torch::kFloat16},         {"BFloat16Storage", torch::kBFloat16},
    {"LongStorage", torch::kInt64},           {"IntStorage", torch::kInt32},
    {"ShortStorage", torch::kInt16},          {"CharStorage", torch::kInt8},
    {"ByteStorage", torch::kUInt8},           {"BoolStorage", torch::kBool},
    {"ComplexFloatStorage", torch::kComplexFloat}, {"ComplexDoubleStorage", torch::kComplexDouble}};

// The globals torch.save checkpoints hold: the state-dict machinery call_global interprets, the
// storage types of persistent ids, and inert classes that training checkpoints carry beside the
// state dict (argparse.Namespace, sets, numpy scalars), which stay opaque.
bool is_allowed_global(const std::string& name) {
  static const std::unordered_set<std::string> allowed = [] {
    std::unordered_set<std::string> names = {
        "collections.OrderedDict", "collections.defaultdict", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "torch.Size",
        "torch.device", "argparse.Namespace", "_codecs.encode", "numpy.core.multiarray.scalar",
        "numpy.core.multiarray._reconstruct", "numpy.dtype", "numpy.ndarray"};
    // Protocol 2 writes Python 3's builtins under Python 2's module name.
    for (const char* module : {"builtins.", "__builtin__."}) {
      for (const char* type : {"set", "frozenset", "slice"}) names.insert(std::string(module) + type);
    }
    for (const auto& storage : kStorageTypes) names.insert(std::string("torch.") + storage.name);
    return names;
  }();
  return allowed.count(name) != 0;
}

torch::ScalarType storage_dtype(const Global& type) {
  for (const auto& entry : kStorageTypes) {
    if (type.module == "torch" && type.name == entry.name) return entry.type;
  }
  throw std::runtime_error("unsupported storage type " + type.qualified());
}

std::string read_record(PyTorchStreamReader& reader, const std::string& name) {
  auto [data, size] = reader.getRecord(name);
  return std::string(static_cast<const char*>(data.get()), size);
}

// Storages are read when the pickle first names them and shared by every tensor viewing them.
class StorageLoader {
 public:
  explicit StorageLoader(PyTorchStreamReader& reader) : reader_(reader) {}

  // pid: ('storage', <torch.XStorage>, key, location, numel); location is ignored, everything
  // lands on the CPU.
  ValuePtr operator()(const Tuple& pid) {
    if (pid.items.size() != 5 || expect<std::string>(pid.items[0], "persistent id tag") != "storage") {
      throw std::runtime_error("persistent id is not a ('storage', type, key, location, numel) tuple");
    }
    const auto dtype = storage_dtype(expect<Global>(pid.items[1], "storage type"));
    const auto& key = expect<std::string>(pid.items[2], "storage key");
    const int64_t numel = expect<int64_t>(pid.items[4], "storage numel");
    torch::Tensor& storage = storages_[key];
    if (!storage.defined()) storage = read_storage(key, dtype, numel);
    return make(Storage{storage});
  }

 private:
  torch::Tensor read_storage(const std::string& key, torch::ScalarType dtype, int64_t numel) {
    const std::string record = "data/" + key;
    if (!reader_.hasRecord(record)) throw std::runtime_error("storage record " + record + " is missing");
    if (numel < 0) throw std::runtime_error("storage " + record + " has a negative size");
    auto [data, bytes] = reader_.getRecord(record);
    if (bytes / c10::elementSize(dtype) < static_cast<uint64_t>(numel)) {
      throw std::runtime_error("storage record " + record + " holds " + std::to_string(bytes) +
                               " bytes, fewer than its " + std::to_string(numel) + " elements need");
    }
    if (numel == 0) return torch::empty({0}, torch::TensorOptions().dtype(dtype));
    // The tensor takes over the record's buffer instead of copying it.
    void* raw = data.get();
    auto owner = std::make_shared<at::DataPtr>(std::move(data));
    return torch::from_blob(raw, {numel}, [owner](void*) {}, torch::TensorOptions().dtype(dtype));
  }

  PyTorchStreamReader& reader_;
  std::unordered_map<std::string, torch::Tensor> storages_;
};

// PyTorchStreamReader would report a legacy file only as a broken zip, so look at the magic.
void check_is_zip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open");
  char magic[4] = {};
  in.read(magic, sizeof(magic));
  if (std::memcmp(magic, "PK\x03\x04", 4) == 0) return;
  if (static_cast<uint8_t>(magic[0]) == op::kProto) {
    throw std::runtime_error(
        "a legacy (non-zip) torch.save file, as torch < 1.6 or _use_new_zipfile_serialization=False "
        "write; re-save it in Python with torch.save(torch.load(path), path)");
  }
  throw std::runtime_error("not a torch.save zip archive");
}

std::unique_ptr<PyTorchStreamReader> open_archive(const std::string& path) {
  const std::string cannot = "cannot read it as a zip archive (truncated?): ";
  try {
    check_zip_file_bounds(path);  // before miniz allocates what the directory claims
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(cannot + e.what());
  }
  try {
    return std::make_unique<PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(cannot + e.what_without_backtrace());
  }
}

// Record names as stored carry the archive's top folder ("archive/", "model/", ...), which
// PyTorchStreamReader adds itself to the names it is asked for.
bool has_record_under(PyTorchStreamReader& reader, const std::string& folder) {
  for (const auto& name : reader.getAllRecords()) {
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash + 1, folder.size(), folder) == 0) return true;
  }
  return false;
}

void check_is_state_dict_archive(PyTorchStreamReader& reader) {
  if (reader.hasRecord("constants.pkl") || has_record_under(reader, "code/")) {
    throw std::runtime_error(
        "a TorchScript archive (e.g. OpenAI's original CLIP .pt); convert it to a state_dict in Python "
        "with torch.jit.load(path).state_dict() and torch.save, or use the .safetensors weights");
  }
  if (!reader.hasRecord("data.pkl")) throw std::runtime_error("a zip archive without data.pkl, not torch.save's");
  if (reader.hasRecord("byteorder") && read_record(reader, "byteorder") != "little") {
    throw std::runtime_error("saved on a big-endian machine, which this reader does not support");
  }
}

const Dict& state_dict_in(const ValuePtr& root) {
  const Dict& top = expect<Dict>(root, "the saved object");
  for (auto entry = top.items.rbegin(); entry != top.items.rend(); ++entry) {
    const auto* key = std::get_if<std::string>(&entry->first->data);
    if (key != nullptr && *key == "state_dict") return expect<Dict>(entry->second, "checkpoint['state_dict']");
  }
  return top;
}

std::map<std::string, torch::Tensor> tensors_in(const Dict& dict) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [key, value] : dict.items) {
    const auto& name = expect<std::string>(key, "state dict key");
    tensors[name] = expect<torch::Tensor>(value, "state dict entry '" + name + "'");
  }
  return tensors;
}

std::map<std::string, torch::Tensor> read_archive(const std::string& path) {
  check_is_zip(path);
  const auto reader = open_archive(path);
  check_is_state_dict_archive(*reader);
  const std::string pickle = read_record(*reader, "data.pkl");
  Unpickler unpickler(reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size(), StorageLoader(*reader));
  return tensors_in(state_dict_in(unpickler.load()));
}

}  // namespace

std::map<std::string, torch::Tensor> read_torch_state_dict(const std::string& path) {
  try {
    return read_archive(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace mmtrain
