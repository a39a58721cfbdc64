// The files of a run, `<output_dir>/<name>/` (docs/reference.md): config, tokenizer, metrics, log and
// checkpoints/ with the `latest` symlink replaced by rename(2) and the newest K kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mmtrain {

class RunDir {
 public:
  explicit RunDir(std::string path);
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string checkpoints() const { return path_ + "/checkpoints"; }
  std::string checkpoint_path(int64_t step) const;
  std::string best_path() const { return checkpoints() + "/best.pt"; }

  bool exists() const;
  void create() const;  // the folder and checkpoints/
  // Points `latest` at `checkpoint` (a file in checkpoints/) atomically.
  void point_latest(const std::string& checkpoint) const;
  // The file `latest` points to, if any.
  std::optional<std::string> latest() const;
  // step_*.pt files, newest first.
  std::vector<std::string> step_checkpoints_newest_first() const;
  // Deletes step_*.pt files beyond the newest keep_last, never the one `latest` points to.
  void prune(int keep_last) const;

 private:
  std::string path_;
};

// One writer per run folder: flock(2) on `<run>/.lock`, held for the life of the training process
// and released by the kernel however it ends (kill -9 included). The file holds the holder's
// process id, so that a second writer is told whom it collides with. Readers (eval, embed,
// report) never take it.
class RunLock {
 public:
  // Creates the folder if needed. Throws std::runtime_error naming the folder and the holder's
  // process id when another process holds the lock.
  explicit RunLock(const std::string& run_folder);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mmtrain
