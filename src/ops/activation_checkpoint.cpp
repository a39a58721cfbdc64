#include "mmtrain/ops/activation_checkpoint.h"

#include <ATen/core/ivalue.h>
#include <torch/autograd.h>

#include <optional>

#include "mmtrain/ops/generator_state.h"
#include "mmtrain/ops/precision.h"
#include "mmtrain/runtime/libtorch_compat.h"

namespace mmtrain {

namespace {

// The state the forward pass ran under, to run it again under the same.
struct ForwardState {
  c10::Device device = c10::kCPU;
  GeneratorState generators;
  bool autocast = false;
  at::ScalarType autocast_dtype = at::kBFloat16;
};

ForwardState capture_state(const at::Tensor& x) {
  ForwardState state;
  state.device = x.device();
  state.generators = GeneratorState::capture(state.device);
  state.autocast = compat::autocast_enabled(state.device.type());
  state.autocast_dtype = compat::autocast_dtype(state.device.type());
  return state;
}

// What the node keeps between the passes, in the context's saved data as a capsule (the one
// IValue that holds a C++ object of ours).
struct Recomputation : torch::CustomClassHolder {
  TensorFunction fn;
  std::vector<at::Tensor> parameters;
  ForwardState state;
};

class RecomputeFunction : public torch::autograd::Function<RecomputeFunction> {
 public:
  // Runs with gradients off (Function::apply's doing): nothing of fn's graph is kept.
  // `parameters` are inputs for autograd's sake only (their gradients come from the recomputation).
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, at::TensorList /*parameters*/,
                            const c10::intrusive_ptr<Recomputation>& recomputation) {
    ctx->save_for_backward({x});
    ctx->saved_data["recomputation"] = c10::IValue::make_capsule(recomputation);
    return recomputation->fn(x);
  }

  // -> the gradients of x, of each parameter, and none for the recomputation.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_output) {
    auto recomputation = c10::static_intrusive_pointer_cast<Recomputation>(ctx->saved_data["recomputation"].toCapsule());
    const auto& parameters = recomputation->parameters;
    const at::Tensor saved = ctx->get_saved_variables()[0];
    const at::Tensor x = saved.detach().requires_grad_(saved.requires_grad());
    at::Tensor y;
    {
      ReplayedGenerators replay(recomputation->state.generators, recomputation->state.device);
      std::optional<AutocastScope> autocast;
      if (recomputation->state.autocast) {
        autocast.emplace(recomputation->state.autocast_dtype == at::kHalf ? "fp16" : "bf16", recomputation->state.device);
      }
      torch::AutoGradMode grad_on(true);
      y = recomputation->fn(x);
    }
    // Differentiated with respect to what needs a gradient; the rest gets none.
    std::vector<at::Tensor> wrt;
    std::vector<size_t> slot;
    const auto consider = [&](const at::Tensor& t, size_t index) {
      if (t.requires_grad()) {
        wrt.push_back(t);
        slot.push_back(index);
      }
    };
    consider(x, 0);
    for (size_t i = 0; i < parameters.size(); ++i) consider(parameters[i], i + 1);
    torch::autograd::variable_list grads(parameters.size() + 2);
    if (wrt.empty() || !y.requires_grad()) return grads;
    const auto computed = torch::autograd::grad({y}, wrt, {grad_output[0]}, /*retain_graph=*/false,
                                                /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t i = 0; i < computed.size(); ++i) grads[slot[i]] = computed[i];
    return grads;
  }
};

}  // namespace

at::Tensor recompute_in_backward(TensorFunction fn, const at::Tensor& x, const std::vector<at::Tensor>& parameters) {
  auto recomputation = c10::make_intrusive<Recomputation>();
  recomputation->fn = std::move(fn);
  recomputation->parameters = parameters;
  recomputation->state = capture_state(x);
  return RecomputeFunction::apply(x, at::TensorList(parameters), recomputation);
}

}  // namespace mmtrain
