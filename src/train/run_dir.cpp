#include "mmtrain/train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
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

RunLock::RunLock(const std::string& run_folder) {
  fs::create_directories(run_folder);
  const std::string path = run_folder + "/.lock";
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(path + ": cannot open the run's lock file: " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK) throw std::runtime_error(path + ": cannot lock: " + std::strerror(error));
    std::ifstream in(path);
    std::string holder;
    std::getline(in, holder);
    throw std::runtime_error(run_folder + ": in use by another mmtrain train (process " +
                             (holder.empty() ? std::string("unknown") : holder) +
                             "); wait for it to finish or stop it, or choose another run.name");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock holds without the id; only a colliding process's message would lack it.
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock
}

}  // namespace mmtrain
