#include "mmtrain/ops/layer_norm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "mmtrain/ops/full_precision.h"
#include "mmtrain/kernels/layer_norm_bf16.h"
#include "mmtrain/ops/dispatch.h"

#include "bf16_tensor.h"

namespace mmtrain {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

int64_t grain_rows(int64_t width) { return std::max<int64_t>(1, kElementsPerTask / width); }

const float* floats(const at::Tensor& t) { return t.data_ptr<float>(); }

// x [..., W] fp32 -> y [..., W] bf16; saves x, gamma and each row's mean and rstd.
struct LayerNormBf16Function : public torch::autograd::Function<LayerNormBf16Function> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gamma,
                            const at::Tensor& beta, double eps) {
    const int64_t width = x.size(-1), rows = x.numel() / width;
    auto y = at::empty(x.sizes(), x.options().dtype(at::kBFloat16));
    auto mean = at::empty({rows}, x.options()), rstd = at::empty({rows}, x.options());
    at::parallel_for(0, rows, grain_rows(width), [&](int64_t begin, int64_t end) {
      layer_norm_bf16::forward(floats(x) + begin * width, floats(gamma), floats(beta), end - begin, width,
                               static_cast<float>(eps), mutable_bf16_data(y) + begin * width,
                               mean.data_ptr<float>() + begin, rstd.data_ptr<float>() + begin);
    });
    ctx->save_for_backward({x, gamma, mean, rstd});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &gamma = saved[1], &mean = saved[2], &rstd = saved[3];
    const auto dy = grads[0].to(at::kBFloat16).contiguous();
    const int64_t width = x.size(-1), rows = x.numel() / width;
    // Each block of rows sums its dgamma and dbeta apart: [blocks, 2, W], added up at the end.
    const int64_t block = std::max(grain_rows(width), (rows + at::get_num_threads() - 1) / at::get_num_threads());
    const int64_t blocks = (rows + block - 1) / block;
    auto dx = at::empty_like(x);
    auto partial = at::zeros({blocks, 2, width}, x.options());
    at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        const int64_t begin = b * block, count = std::min(rows, begin + block) - begin;
        float* sums = partial.data_ptr<float>() + b * 2 * width;
        layer_norm_bf16::backward(floats(x) + begin * width, bf16_data(dy) + begin * width, floats(gamma),
                                  floats(mean) + begin, floats(rstd) + begin, count, width,
                                  dx.data_ptr<float>() + begin * width, sums, sums + width);
      }
    });
    const auto sums = partial.sum(0);  // [2, W]
    return {dx, sums[0], sums[1], at::Tensor()};
  }
};

}  // namespace

torch::Tensor layer_norm_for_linear(torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  const auto& options = norm->options;
  const auto impl = ops::layer_norm_for_linear_impl(x, norm->weight, options.elementwise_affine(),
                                                    static_cast<int64_t>(options.normalized_shape().size()));
  switch (impl) {
    case ops::Impl::cpu_avx512_bf16: return LayerNormBf16Function::apply(x, norm->weight, norm->bias, options.eps());
    default: return layer_norm_fp32(norm, x);
  }
}

}  // namespace mmtrain
