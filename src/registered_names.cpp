#include "mmtrain/registered_names.h"

#include "mmtrain/heads/task_head.h"
#include "mmtrain/losses/loss_term.h"
#include "mmtrain/models/registry.h"

namespace mmtrain {

void register_builtins() {
  register_builtin_models();
  register_builtin_loss_terms();
  register_builtin_heads();
}

std::vector<std::string> vision_tower_types() { return vision_tower_registry().names(); }
std::vector<std::string> text_tower_types() { return text_tower_registry().names(); }
std::vector<std::string> fusion_types() { return fusion_registry().names(); }
std::vector<std::string> loss_term_names() { return loss_term_registry().names(); }
std::vector<std::string> head_types() { return head_registry().names(); }

}  // namespace mmtrain
