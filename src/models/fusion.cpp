#include "mmtrain/models/fusion.h"

namespace mmtrain {

torch::Tensor FusionImpl::match(const Encoded&, const Encoded&) {
  TORCH_CHECK(false, "this fusion has no match head; image-text matching needs a fused type");
}

torch::Tensor FusionImpl::fused(const Encoded&, const Encoded&) {
  TORCH_CHECK(false, "this fusion has no joint representation; a head over image-question pairs needs a fused type");
}

}  // namespace mmtrain
