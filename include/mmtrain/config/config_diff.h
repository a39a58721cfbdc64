// What changed between two configs, key by key: resuming with a changed config refuses changes
// that break continuity (shapes, tokenizer, data order, schedule) and accepts the rest.
#pragma once

#include <string>
#include <vector>

#include "mmtrain/config/config.h"

namespace mmtrain {

struct ConfigChange {
  std::string key;  // e.g. "optim.lr"
  std::string before;
  std::string after;
};

std::vector<ConfigChange> diff_configs(const Config& before, const Config& after);

// Whether changing `key` mid-run would make the resumed run differ from an unbroken one in
// ways other than logging, evaluation, checkpoint cadence or speed.
bool breaks_continuity(const std::string& key);

}  // namespace mmtrain
