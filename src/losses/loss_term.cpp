#include "mmtrain/losses/loss_term.h"

#include <mutex>

#include "mmtrain/losses/action_loss.h"
#include "mmtrain/losses/caption_loss.h"
#include "mmtrain/losses/clip_loss.h"
#include "mmtrain/losses/itm_loss.h"
#include "mmtrain/losses/loss.h"
#include "mmtrain/losses/siglip_loss.h"
#include "mmtrain/losses/vqa_loss.h"

namespace mmtrain {

std::string LossTermDescriptor::why_not_accumulable() const {
  if (mean_over_rows) return "";
  if (needs.any()) {
    return "it reads the model's token outputs or match head, and cached micro-batches keep the embeddings alone";
  }
  if (!learned_scalars.empty()) {
    std::vector<std::string> names;
    for (const auto& scalar : learned_scalars) names.push_back(scalar.name);
    return "every micro-batch's backward would add the whole gradient of its learned scalars (" + listed(names) + ")";
  }
  return "";
}

torch::Tensor LossTermInputs::learned(const std::string& name) const {
  const auto parameters = loss_parameters(model).named_parameters(/*recurse=*/false);
  const auto* found = parameters.find(name);
  TORCH_CHECK(found != nullptr, "loss parameter ", name, " is not attached: is it in its term's learned_scalars?");
  return *found;
}

Registry<LossTermEntry>& loss_term_registry() {
  static Registry<LossTermEntry> registry("loss term");
  return registry;
}

void register_builtin_loss_terms() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_clip_term();
    register_siglip_term();
    register_itm_term();
    register_caption_term();
    register_vqa_terms();
    register_action_terms();
  });
}

}  // namespace mmtrain
