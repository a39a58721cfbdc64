#include "mmtrain/models/fused_gelu.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "mmtrain/models/activation_math.h"

namespace mmtrain {

namespace {

namespace act = activation_math;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kGrain = 32768;  // elements per task: below this a thread costs more than it saves

const uint16_t* halves(const at::Tensor& x) { return reinterpret_cast<const uint16_t*>(x.data_ptr<at::BFloat16>()); }
uint16_t* halves(at::Tensor& x) { return reinterpret_cast<uint16_t*>(x.data_ptr<at::BFloat16>()); }

struct Bf16GeluFunction : public torch::autograd::Function<Bf16GeluFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input) {
    const auto x = input.contiguous();
    auto y = at::empty_like(x);
    const uint16_t* xs = halves(x);
    uint16_t* ys = halves(y);
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      act::gelu_forward(xs + begin, ys + begin, end - begin);
    });
    ctx->save_for_backward({x});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    const auto dy = grads[0].to(at::kBFloat16).contiguous();
    auto dx = at::empty_like(x);
    const uint16_t *xs = halves(x), *dys = halves(dy);
    uint16_t* dxs = halves(dx);
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      act::gelu_backward(xs + begin, dys + begin, dxs + begin, end - begin);
    });
    return {dx};
  }
};

}  // namespace

at::Tensor fused_gelu(const at::Tensor& x) {
  if (x.device().is_cpu() && x.scalar_type() == at::kBFloat16) return Bf16GeluFunction::apply(x);
  return at::gelu(x);
}

}  // namespace mmtrain
