#include "mmtrain/ops/gelu.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "mmtrain/kernels/gelu_bf16.h"
#include "mmtrain/ops/dispatch.h"

#include "bf16_tensor.h"

namespace mmtrain {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct GeluBf16Function : public torch::autograd::Function<GeluBf16Function> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x) {
    auto y = at::empty_like(x);
    at::parallel_for(0, x.numel(), kElementsPerTask, [&](int64_t begin, int64_t end) {
      gelu_bf16::forward(bf16_data(x) + begin, mutable_bf16_data(y) + begin, end - begin);
    });
    ctx->save_for_backward({x});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    const auto dy = grads[0].to(at::kBFloat16).contiguous();
    auto dx = at::empty_like(x);
    at::parallel_for(0, x.numel(), kElementsPerTask, [&](int64_t begin, int64_t end) {
      gelu_bf16::backward(bf16_data(x) + begin, bf16_data(dy) + begin, mutable_bf16_data(dx) + begin, end - begin);
    });
    return {dx};
  }
};

}  // namespace

at::Tensor gelu_erf(const at::Tensor& x) {
  switch (ops::gelu_impl(x)) {
    case ops::Impl::cpu_avx512_bf16: return GeluBf16Function::apply(x);
    default: return at::gelu(x);
  }
}

}  // namespace mmtrain
