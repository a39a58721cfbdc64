#include "mmtrain/models/fusion.h"

namespace mmtrain {

torch::Tensor FusionImpl::match(const Encoded&, const Encoded&) {
  TORCH_CHECK(false, "this fusion has no match head; image-text matching needs a fused type");
}

}  // namespace mmtrain
