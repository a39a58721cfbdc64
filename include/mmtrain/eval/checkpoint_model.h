// A model ready for evaluation or embedding, rebuilt from nothing but a checkpoint: its resolved
// config, its tokenizer bytes and its weights.
#pragma once

#include <memory>
#include <string>

#include "mmtrain/config/config.h"
#include "mmtrain/data/action_space.h"
#include "mmtrain/data/answer_vocab.h"
#include "mmtrain/eval/embed.h"
#include "mmtrain/io/checkpoint_file.h"

namespace mmtrain {

struct CheckpointModel {
  Config config;
  std::shared_ptr<const Tokenizer> tokenizer;
  MultimodalModel model{nullptr};
  TrainState state;
  std::shared_ptr<const AnswerVocab> answers;  // a vqa head's vocabulary; null without one
  std::shared_ptr<const ActionSpace> actions;  // an action head's space; null without one
};

CheckpointModel load_checkpoint_model(const std::string& path, torch::Device device);

}  // namespace mmtrain
