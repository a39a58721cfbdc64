// The names each registry holds, read without LibTorch: config validation (built without it)
// checks model.vision.type, model.text.type, model.fusion.type and loss.terms against these, so
// no list of names is kept anywhere but in the registries (models/registry.h,
// losses/loss_term.h, heads/task_head.h).
#pragma once

#include <string>
#include <vector>

namespace mmtrain {

// Registers every built-in tower, fusion and loss term. Idempotent; main(), the tests and config
// validation call it before looking a name up.
void register_builtins();

// In registration order (the default first).
std::vector<std::string> vision_tower_types();
std::vector<std::string> text_tower_types();
std::vector<std::string> fusion_types();
std::vector<std::string> loss_term_names();
std::vector<std::string> head_types();

}  // namespace mmtrain
