#include "mmtrain/io/checkpoint_file.h"

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "mmtrain/io/read_file.h"
#include "mmtrain/io/write_file.h"
#include "mmtrain/io/zip_bounds.h"

namespace mmtrain {

namespace {

constexpr char kMagic[8] = {'M', 'M', 'T', 'R', 'C', 'K', 'P', 'T'};

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t reserved;
  uint64_t payload_size;
  uint64_t checksum;
};

uint64_t fnv1a64(const std::string& bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

torch::Tensor bytes_to_tensor(const std::string& bytes) {
  auto t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return t;
}

std::string tensor_to_bytes(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), c.numel());
}

void write_int(torch::serialize::OutputArchive& archive, const std::string& key, int64_t value) {
  archive.write(key, c10::IValue(value));
}

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

torch::Tensor read_tensor(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  archive.read(key, t);
  return t;
}

// LibTorch's archive errors name neither the file nor the entry and carry a C++ backtrace: every
// read of the archive goes through here, so that a damaged or crafted file is named in one line.
template <class Read>
auto naming_file(const std::string& path, Read&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const c10::Error& error) {
    throw std::runtime_error(path + ": not a readable checkpoint archive (" + error.what_without_backtrace() + ")");
  } catch (const std::exception& error) {
    if (std::string(error.what()).find(path) != std::string::npos) throw;
    throw std::runtime_error(path + ": not a readable checkpoint archive (" + error.what() + ")");
  }
}

// Parses the payload's LibTorch archive into `archive` and reads meta and state from it.
void read_archive(const std::string& payload, torch::serialize::InputArchive& archive, CheckpointMeta& meta) {
  check_torchscript_archive(payload);  // before LibTorch allocates what the archive claims
  // Onto the CPU whatever device wrote it: a checkpoint trained on CUDA evaluates on a CPU-only host.
  archive.load_from(payload.data(), payload.size(), torch::Device(torch::kCPU));
  meta.config_yaml = tensor_to_bytes(read_tensor(archive, "meta/config"));
  meta.tokenizer_type = tensor_to_bytes(read_tensor(archive, "meta/tokenizer_type"));
  meta.tokenizer_bytes = tensor_to_bytes(read_tensor(archive, "meta/tokenizer"));
  torch::Tensor answers;
  if (archive.try_read("meta/answers", answers)) meta.answers = tensor_to_bytes(answers);
  torch::Tensor actions;
  if (archive.try_read("meta/actions", actions)) meta.actions = tensor_to_bytes(actions);
  meta.state.step = read_int(archive, "state/step");
  meta.state.epoch = read_int(archive, "state/epoch");
  meta.state.batch_in_epoch = read_int(archive, "state/batch_in_epoch");
  c10::IValue best;
  archive.read("state/best_metric", best);
  meta.state.best_metric = best.toDouble();
}

}  // namespace

void write_checkpoint_file(const std::string& path, torch::nn::Module& model, const CheckpointMeta& meta,
                           const ExtraCheckpointEntries& extra) {
  torch::serialize::OutputArchive archive;
  archive.write("meta/config", bytes_to_tensor(meta.config_yaml));
  archive.write("meta/tokenizer_type", bytes_to_tensor(meta.tokenizer_type));
  archive.write("meta/tokenizer", bytes_to_tensor(meta.tokenizer_bytes));
  if (!meta.answers.empty()) archive.write("meta/answers", bytes_to_tensor(meta.answers));
  if (!meta.actions.empty()) archive.write("meta/actions", bytes_to_tensor(meta.actions));
  write_int(archive, "state/step", meta.state.step);
  write_int(archive, "state/epoch", meta.state.epoch);
  write_int(archive, "state/batch_in_epoch", meta.state.batch_in_epoch);
  archive.write("state/best_metric", c10::IValue(meta.state.best_metric));
  for (const auto& item : model.named_parameters()) archive.write("model/" + item.key(), item.value().detach().cpu());
  for (const auto& item : model.named_buffers()) archive.write("model/" + item.key(), item.value().cpu(), true);
  if (extra) extra(archive);
  std::ostringstream payload_stream;
  archive.save_to(payload_stream);
  const std::string payload = payload_stream.str();

  Header header{};
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.version = meta.version;
  header.payload_size = payload.size();
  header.checksum = fnv1a64(payload);
  write_file_atomically(path, std::string(reinterpret_cast<const char*>(&header), sizeof(header)), payload);
}

Checkpoint Checkpoint::load(const std::string& path) {
  const std::string bytes = read_file_bytes(path, "checkpoint");
  Header header{};
  if (bytes.size() < sizeof(header)) throw std::runtime_error(path + ": too short to be a checkpoint (truncated write?)");
  std::memcpy(&header, bytes.data(), sizeof(header));
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) {
    throw std::runtime_error(path + ": not an mmtrain checkpoint (bad magic)");
  }
  if (header.version != kCheckpointVersion) {
    throw std::runtime_error(path + ": checkpoint format version " + std::to_string(header.version) +
                             " is not supported (this build reads " + std::to_string(kCheckpointVersion) + ")");
  }
  const std::string payload = bytes.substr(sizeof(header));
  if (payload.size() != header.payload_size || fnv1a64(payload) != header.checksum) {
    throw std::runtime_error(path + ": checksum mismatch (truncated or corrupt file)");
  }

  Checkpoint checkpoint;
  checkpoint.path_ = path;
  checkpoint.archive_ = std::make_shared<torch::serialize::InputArchive>();
  checkpoint.meta_.version = header.version;
  naming_file(path, [&] { read_archive(payload, *checkpoint.archive_, checkpoint.meta_); });
  return checkpoint;
}

void Checkpoint::restore_model(torch::nn::Module& model) const {
  torch::NoGradGuard no_grad;
  auto restore = [&](const std::string& name, torch::Tensor& target) {
    torch::Tensor source;
    if (!archive_->try_read("model/" + name, source)) {
      throw std::runtime_error(path_ + ": missing model tensor '" + name + "'");
    }
    if (source.sizes() != target.sizes()) {
      std::ostringstream message;
      message << path_ << ": model tensor '" << name << "' has shape " << source.sizes()
              << ", the model expects " << target.sizes();
      throw std::runtime_error(message.str());
    }
    target.copy_(source);
  };
  naming_file(path_, [&] {
    for (auto& item : model.named_parameters()) restore(item.key(), item.value());
    for (auto& item : model.named_buffers()) restore(item.key(), item.value());
  });
}

std::map<std::string, torch::Tensor> Checkpoint::model_tensors() const {
  std::map<std::string, torch::Tensor> tensors;
  const std::string prefix = "model/";
  naming_file(path_, [&] {
    for (const auto& key : archive_->keys()) {
      if (key.rfind(prefix, 0) == 0) tensors.emplace(key.substr(prefix.size()), read_tensor(*archive_, key));
    }
  });
  return tensors;
}

bool Checkpoint::read_entry(const std::string& key, torch::Tensor& tensor) const {
  return naming_file(path_, [&] { return archive_->try_read(key, tensor); });
}

bool Checkpoint::read_entry(const std::string& key, torch::serialize::InputArchive& archive) const {
  return naming_file(path_, [&] { return archive_->try_read(key, archive); });
}

bool Checkpoint::read_entry(const std::string& key, c10::IValue& value) const {
  return naming_file(path_, [&] { return archive_->try_read(key, value); });
}

}  // namespace mmtrain
