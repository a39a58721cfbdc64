#include "mmtrain/eval/checkpoint_model.h"

#include "mmtrain/config/load_config.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/text/build_tokenizer.h"

namespace mmtrain {

CheckpointModel load_checkpoint_model(const std::string& path, torch::Device device) {
  const Checkpoint checkpoint = Checkpoint::load(path);
  CheckpointModel loaded;
  loaded.config = parse_config(checkpoint.meta().config_yaml, path + " (stored config)");
  loaded.tokenizer = tokenizer_from_bytes(checkpoint.meta().tokenizer_type, checkpoint.meta().tokenizer_bytes);
  loaded.model = build_model(loaded.config.model,
                             TextVocab{loaded.tokenizer->vocab_size(), loaded.tokenizer->eos_id(), loaded.tokenizer->pad_id()});
  checkpoint.restore_model(*loaded.model);
  loaded.model->to(device);
  loaded.model->eval();
  loaded.state = checkpoint.meta().state;
  if (!checkpoint.meta().answers.empty()) {
    loaded.answers = std::make_shared<AnswerVocab>(AnswerVocab::from_text(checkpoint.meta().answers));
  }
  if (!checkpoint.meta().actions.empty()) {
    loaded.actions = std::make_shared<ActionSpace>(ActionSpace::from_text(checkpoint.meta().actions));
  }
  return loaded;
}

}  // namespace mmtrain
