#include "mmtrain/ops/residual.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "mmtrain/kernels/residual_bf16.h"
#include "mmtrain/ops/dispatch.h"

#include "bf16_tensor.h"

namespace mmtrain {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct AddBf16BranchFunction : public torch::autograd::Function<AddBf16BranchFunction> {
  static at::Tensor forward(AutogradContext*, const at::Tensor& x, const at::Tensor& branch) {
    auto out = at::empty_like(x);
    at::parallel_for(0, x.numel(), kElementsPerTask, [&](int64_t begin, int64_t end) {
      residual_bf16::add(x.data_ptr<float>() + begin, bf16_data(branch) + begin, out.data_ptr<float>() + begin,
                         end - begin);
    });
    return out;
  }
  static variable_list backward(AutogradContext*, variable_list grads) {
    return {grads[0], grads[0].to(at::kBFloat16)};
  }
};

}  // namespace

at::Tensor add_residual(const at::Tensor& x, const at::Tensor& branch) {
  switch (ops::residual_impl(x, branch)) {
    case ops::Impl::cpu_avx512_bf16: return AddBf16BranchFunction::apply(x, branch);
    default: return x + branch;
  }
}

}  // namespace mmtrain
