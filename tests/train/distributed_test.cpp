// DataParallel's refusals, made before it joins the other ranks.
#include "mmtrain/train/distributed.h"

#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "mmtrain/errors.h"
#include "support/error_message.h"

namespace mmtrain {
namespace {

// This process posing as rank 0 of 2 (torchrun's variables), for the duration of a test.
class TwoRankEnvironment {
 public:
  TwoRankEnvironment() {
    for (const auto& [name, value] : kVariables) {
      const char* before = std::getenv(name.c_str());
      if (before) saved_[name] = before;
      setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~TwoRankEnvironment() {
    for (const auto& [name, value] : kVariables) {
      const auto saved = saved_.find(name);
      if (saved == saved_.end()) {
        unsetenv(name.c_str());
      } else {
        setenv(name.c_str(), saved->second.c_str(), 1);
      }
    }
  }

 private:
  inline static const std::map<std::string, std::string> kVariables = {
      {"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29599"}};
  std::map<std::string, std::string> saved_;
};

TEST(DataParallel, ATermThatCannotRunOnSeveralProcessesIsRefusedBeforeJoining) {
  TwoRankEnvironment two_ranks;
  Config config;
  config.train.batch_size = 8;
  config.loss.terms = {{"clip", 1.0}, {"siglip", 1.0}};
  const std::string message = test::error_message<ConfigError>([&] { DataParallel dp(config); });
  EXPECT_EQ(message,
            "loss.terms.siglip: this term needs the whole batch on one process; training on several processes "
            "takes terms that compute their share against every rank's embeddings (clip, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce, action_point)");
}

}  // namespace
}  // namespace mmtrain
