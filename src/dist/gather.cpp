#include "mmtrain/dist/gather.h"

#include <torch/autograd.h>

namespace mmtrain::dist {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class AllGatherWithGrad : public torch::autograd::Function<AllGatherWithGrad> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& local, ProcessGroup* group) {
    // saved_data holds IValues only; the group is neither copyable nor movable, so its address
    // stays valid for as long as the caller keeps it alive (documented in gather.h).
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group);
    ctx->saved_data["rows"] = local.size(0);
    return group->allgather(local);  // [W*b,...]
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto* group = reinterpret_cast<ProcessGroup*>(ctx->saved_data["group"].toInt());
    const int64_t rows = ctx->saved_data["rows"].toInt();
    // Gloo has no reduce-scatter: sum the whole [W*b,...] gradient and keep this rank's rows.
    // Twice the traffic of a reduce-scatter, negligible for embedding-sized tensors.
    auto summed = grads[0].clone(at::MemoryFormat::Contiguous);
    group->allreduce_sum_(summed);
    return {summed.narrow(0, group->rank() * rows, rows), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor all_gather_with_grad(ProcessGroup& group, const torch::Tensor& local) {
  TORCH_CHECK(local.defined() && local.dim() >= 1, "all_gather_with_grad: expected a tensor with a row dimension");
  if (group.world_size() == 1) return local;
  return AllGatherWithGrad::apply(local, &group);
}

}  // namespace mmtrain::dist
