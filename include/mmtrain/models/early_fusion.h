// Early fusion (ViLT's single stream): image and text tokens, each tagged with a learned modality
// embedding, go through one transformer together behind a learned summary token; the match head
// reads that token. The dual encoder stays for the contrastive path.
#pragma once

#include "mmtrain/models/match_fusion.h"
#include "mmtrain/models/transformer.h"

namespace mmtrain {

class EarlyFusionImpl : public MatchFusionImpl {
 public:
  explicit EarlyFusionImpl(const MatchFusionOptions& options);

 protected:
  torch::Tensor summary(const Encoded& image, const Encoded& text) override;  // -> [B,W]

 private:
  torch::Tensor cls_token_;       // [W]   the summary token the match head reads
  torch::Tensor type_embedding_;  // [2,W] row 0 text, row 1 image
  Transformer transformer_{nullptr};
};
TORCH_MODULE(EarlyFusion);

}  // namespace mmtrain
