#include "mmtrain/train/run_dir.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace mmtrain {

namespace fs = std::filesystem;

RunDir::RunDir(std::string path) : path_(std::move(path)) {}

std::string RunDir::checkpoint_path(int64_t step) const {
  char name[32];
  std::snprintf(name, sizeof(name), "step_%08lld.pt", static_cast<long long>(step));
  return checkpoints() + "/" + name;
}

bool RunDir::exists() const { return fs::exists(path_); }

void RunDir::create() const { fs::create_directories(checkpoints()); }

void RunDir::point_latest(const std::string& checkpoint) const {
  const std::string link = checkpoints() + "/latest";
  const std::string tmp = link + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  const std::string target = fs::path(checkpoint).filename().string();
  if (::symlink(target.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), link.c_str()) != 0) {
    throw std::runtime_error(link + ": cannot update: " + std::strerror(errno));
  }
}

std::optional<std::string> RunDir::latest() const {
  const fs::path link = checkpoints() + "/latest";
  std::error_code error;
  if (!fs::is_symlink(link, error)) return std::nullopt;
  const fs::path target = fs::read_symlink(link, error);
  if (error) return std::nullopt;
  return (fs::path(checkpoints()) / target).string();
}

std::vector<std::string> RunDir::step_checkpoints_newest_first() const {
  std::vector<std::string> steps;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(checkpoints(), error)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && entry.path().extension() == ".pt") steps.push_back(entry.path().string());
  }
  std::sort(steps.rbegin(), steps.rend());  // zero-padded step numbers sort by name
  return steps;
}

void RunDir::prune(int keep_last) const {
  const auto steps = step_checkpoints_newest_first();
  const auto newest = latest();
  for (size_t i = static_cast<size_t>(keep_last); i < steps.size(); ++i) {
    if (newest && fs::equivalent(steps[i], *newest)) continue;
    fs::remove(steps[i]);
  }
}

}  // namespace mmtrain
